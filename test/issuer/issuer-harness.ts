/**
 * A real issuer in-process on loopback ports, its log captured line by line, with gRPC clients
 * and the admin's credentials, for the integration suites.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { credentials, Metadata, type Client, type ServiceError } from "@grpc/grpc-js";
import { createIssuerLogger, loadConfig, startIssuer, type AdminKeyFile, type RunningIssuer } from "@trustmesh/issuer";
import { adminV1, issuerV1 } from "@trustmesh/proto";
import { importJWK, SignJWT } from "jose";
import { randomBytes } from "node:crypto";

export interface TestIssuer {
  readonly running: RunningIssuer;
  readonly logs: string[];
  readonly tokens: issuerV1.TokenIssuerClient;
  readonly admin: adminV1.IssuerAdminClient;
  readonly adminKeyFile: string;
  /** A fresh admin access token, minted through IssueToken like trustctl does. */
  adminToken(): Promise<string>;
  close(): Promise<void>;
}

export async function startTestIssuer(env: Record<string, string> = {}): Promise<TestIssuer> {
  const dir = await mkdtemp(join(tmpdir(), "trustmesh-issuer-"));
  const adminKeyFile = join(dir, "admin-key.json");
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString("utf8").split("\n").filter((line) => line !== ""));
      done();
    },
  });
  const config = loadConfig({ TRUSTMESH_GRPC_ADDRESS: "127.0.0.1:0", TRUSTMESH_HTTP_ADDRESS: "127.0.0.1:0", TRUSTMESH_ADMIN_KEY_FILE: adminKeyFile, ...env });
  const running = await startIssuer({ config, logger: createIssuerLogger("trace", sink) });
  const tokens = new issuerV1.TokenIssuerClient(running.grpcAddress, credentials.createInsecure());
  const admin = new adminV1.IssuerAdminClient(running.grpcAddress, credentials.createInsecure());
  return {
    running,
    logs,
    tokens,
    admin,
    adminKeyFile,
    async adminToken() {
      const file = JSON.parse(await readFile(adminKeyFile, "utf8")) as AdminKeyFile;
      const clientAssertion = await signAssertion(file.privateJwk, file.serviceId, file.issuer);
      const response = await unary<issuerV1.TokenResponse>(tokens, "issueToken", { clientAssertion, audience: file.audience, scopes: ["trustmesh:admin"] });
      return response.accessToken;
    },
    async close() {
      tokens.close();
      admin.close();
      await running.close(1000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function signAssertion(privateJwk: Readonly<Record<string, unknown>>, serviceId: string, issuer: string, changes: Record<string, unknown> = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const key = await importJWK(privateJwk as never, privateJwk["alg"] as string);
  return new SignJWT({ iss: serviceId, sub: serviceId, aud: issuer, iat: now, exp: now + 30, jti: randomBytes(16).toString("base64url"), ...changes })
    .setProtectedHeader({ alg: privateJwk["alg"] as string, kid: privateJwk["kid"] as string, typ: "JWT" })
    .sign(key);
}

export function bearer(token: string): Metadata {
  const metadata = new Metadata();
  metadata.set("authorization", `Bearer ${token}`);
  return metadata;
}

type UnaryMethod<Res> = (request: object, metadata: Metadata, callback: (error: ServiceError | null, response: Res) => void) => unknown;

/** One unary call as a promise; rejects with the grpc-js ServiceError. */
export function unary<Res = unknown>(client: Client, method: string, request: object, metadata: Metadata = new Metadata()): Promise<Res> {
  const fn = (client as unknown as Record<string, UnaryMethod<Res>>)[method];
  if (fn === undefined) throw new Error(`no method ${method}`);
  return new Promise((resolve, reject) => {
    fn.call(client, request, metadata, (error, response) => {
      if (error === null) resolve(response);
      else reject(error);
    });
  });
}

/** The status code a call failed with, or "OK". */
export async function statusOf(call: Promise<unknown>): Promise<number | "OK"> {
  try {
    await call;
    return "OK";
  } catch (error) {
    return (error as ServiceError).code;
  }
}
