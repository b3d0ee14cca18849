/**
 * The issuer in a process of its own, publishing to the bench's NATS, and its RevokeToken admin
 * RPC as an operator (trustctl) calls it: an admin token from the issuer's bootstrap key file,
 * then one call per revocation, which answers once JetStream has stored the event.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, credentials, Metadata } from "@grpc/grpc-js";
import { ADMIN_SCOPE, type AdminKeyFile } from "@trustmesh/issuer";
import { adminV1, issuerV1 } from "@trustmesh/proto";
import { importJWK, SignJWT } from "jose";
import { unaryCall } from "./lib/load.js";
import { startServerProcess } from "./lib/server-process.js";

const CALL_DEADLINE_MS = 5_000;

export interface RevokingIssuer {
  /** Revokes a token by its jti; resolves with the event's stream sequence. */
  revokeToken(target: { readonly jti: string; readonly sub: string; readonly exp: number }): Promise<number>;
  stop(): Promise<void>;
}

export async function startRevokingIssuer(natsUrl: string): Promise<RevokingIssuer> {
  const dir = await mkdtemp(join(tmpdir(), "trustmesh-bench-revocation-"));
  const cleanup: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })];
  const stop = async (): Promise<void> => {
    for (const step of cleanup) await step().catch(() => undefined);
  };
  try {
    const adminKeyFile = join(dir, "admin-key.json");
    const server = await startServerProcess("issuer", {
      kind: "issuer",
      env: {
        TRUSTMESH_GRPC_ADDRESS: "127.0.0.1:0",
        TRUSTMESH_HTTP_ADDRESS: "127.0.0.1:0",
        TRUSTMESH_ADMIN_KEY_FILE: adminKeyFile,
        TRUSTMESH_NATS_URL: natsUrl,
        TRUSTMESH_LOG_LEVEL: "silent",
      },
    });
    cleanup.unshift(() => server.stop());
    const client = new Client(server.address, credentials.createInsecure());
    cleanup.unshift(() => {
      client.close();
      return Promise.resolve();
    });
    const metadata = await adminMetadata(client, JSON.parse(await readFile(adminKeyFile, "utf8")) as AdminKeyFile);
    return {
      async revokeToken(target) {
        const request: adminV1.RevokeTokenRequest = { target: { $case: "jti", value: target.jti }, sub: target.sub, expUnix: target.exp, reason: "benchmark" };
        const response = await unaryCall(client, adminV1.IssuerAdminService.revokeToken, request, { deadlineMs: CALL_DEADLINE_MS, metadata });
        if (response.receipt === undefined) throw new Error("RevokeToken answered without a receipt");
        return response.receipt.streamSequence;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A bearer admin token, issued for the bootstrap admin identity's client assertion. */
async function adminMetadata(client: Client, admin: AdminKeyFile): Promise<Metadata> {
  const alg = String(admin.privateJwk["alg"]);
  const nowSec = Math.floor(Date.now() / 1000);
  const clientAssertion = await new SignJWT({ iss: admin.serviceId, sub: admin.serviceId, aud: admin.issuer, iat: nowSec, exp: nowSec + 30, jti: randomBytes(16).toString("base64url") })
    .setProtectedHeader({ alg, kid: String(admin.privateJwk["kid"]), typ: "JWT" })
    .sign(await importJWK(admin.privateJwk, alg));
  const request: issuerV1.IssueTokenRequest = { clientAssertion, audience: admin.audience, scopes: [ADMIN_SCOPE] };
  const token = await unaryCall(client, issuerV1.TokenIssuerService.issueToken, request, { deadlineMs: CALL_DEADLINE_MS });
  const metadata = new Metadata();
  metadata.set("authorization", `Bearer ${token.accessToken}`);
  return metadata;
}
