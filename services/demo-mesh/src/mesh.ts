/**
 * Brings the demo mesh up: an issuer in this process, the two identities registered through the
 * admin API (as `trustctl service register` would), and payments and orders as child processes
 * configured through their environment, the way they would run anywhere else.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { credentials, Metadata } from "@grpc/grpc-js";
import { createIssuerLogger, loadConfig, startIssuer, type AdminKeyFile, type RunningIssuer } from "@trustmesh/issuer";
import { adminV1, issuerV1 } from "@trustmesh/proto";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from "jose";
import { randomBytes } from "node:crypto";
import { HarnessError, startNats } from "@trustmesh/testing";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

export interface ServiceKey {
  readonly serviceId: string;
  readonly privateJwk: JWK & { kid: string; alg: string };
}

export interface Mesh {
  readonly issuer: RunningIssuer;
  /** Where revocations travel, in words; undefined when there is no NATS at all. */
  readonly natsNote: string | undefined;
  readonly natsUrl: string | undefined;
  /** Where the issuer's state lives, in words, for the story's first line. */
  readonly storeNote: string;
  readonly ordersAddress: string;
  readonly paymentsAddress: string;
  readonly keys: Readonly<Record<"orders" | "storefront", ServiceKey>>;
  /** Moves the issuer's clock, to mint a token "in the past" for the expiry step. */
  shiftIssuerClock(offsetMs: number): void;
  /** An access token straight from IssueToken, for the steps that misuse tokens on purpose. */
  issue(key: ServiceKey, audience: string, scopes: string[], nowMs?: number): Promise<string>;
  /** An admin call as trustctl makes it: with a fresh trustmesh:admin token. */
  admin(method: "revokeToken" | "revokeService", request: object): Promise<{ response: { receipt?: { eventId: string } }; calledAtMs: number }>;
  close(): Promise<void>;
}

export async function startMesh(env: Readonly<Record<string, string | undefined>>): Promise<Mesh> {
  const dir = await mkdtemp(join(tmpdir(), "trustmesh-demo-"));
  let clockOffsetMs = 0;
  const nats = await natsFor(env);
  const adminKeyFile = join(dir, "admin-key.json");
  const issuerEnv: Record<string, string> = { TRUSTMESH_GRPC_ADDRESS: "127.0.0.1:0", TRUSTMESH_HTTP_ADDRESS: "127.0.0.1:0", TRUSTMESH_ADMIN_KEY_FILE: adminKeyFile };
  if (nats !== undefined) issuerEnv["TRUSTMESH_NATS_URL"] = nats.url;
  if (env["TRUSTMESH_REDIS_URL"] !== undefined) {
    issuerEnv["TRUSTMESH_REDIS_URL"] = env["TRUSTMESH_REDIS_URL"];
    issuerEnv["TRUSTMESH_REDIS_KEY_PREFIX"] = `trustmesh-demo-${randomBytes(4).toString("hex")}:`;
    const kekFile = join(dir, "kek");
    issuerEnv["TRUSTMESH_KEK_FILE"] = kekFile;
    await writeFile(kekFile, randomBytes(32).toString("base64"), { mode: 0o600 });
  }
  const issuer = await startIssuer({
    config: loadConfig(issuerEnv),
    logger: createIssuerLogger("silent"),
    now: () => Date.now() + clockOffsetMs,
  });
  const storeNote = issuer.store.kind === "redis" ? "Redis at TRUSTMESH_REDIS_URL" : "the embedded in-memory store (no TRUSTMESH_REDIS_URL)";

  const tokens = new issuerV1.TokenIssuerClient(issuer.grpcAddress, credentials.createInsecure());
  const admin = new adminV1.IssuerAdminClient(issuer.grpcAddress, credentials.createInsecure());
  const adminFile = JSON.parse(await readFile(adminKeyFile, "utf8")) as AdminKeyFile;
  const adminKey: ServiceKey = { serviceId: adminFile.serviceId, privateJwk: adminFile.privateJwk as ServiceKey["privateJwk"] };

  const issue = async (key: ServiceKey, audience: string, scopes: string[], nowMs = Date.now()): Promise<string> => {
    const response = await call<issuerV1.TokenResponse>((done) => {
      void assertion(key, issuer.issuer, nowMs).then((clientAssertion) => tokens.issueToken({ clientAssertion, audience, scopes }, done));
    });
    return response.accessToken;
  };
  const asAdmin = async (): Promise<Metadata> => {
    const metadata = new Metadata();
    metadata.set("authorization", `Bearer ${await issue(adminKey, adminFile.audience, ["trustmesh:admin"])}`);
    return metadata;
  };
  const register = async (serviceId: string, grants: Record<string, string[]>): Promise<ServiceKey> => {
    const key = await newServiceKey(serviceId);
    const metadata = await asAdmin();
    const { kid, alg, crv, x, kty } = key.privateJwk;
    await call((done) =>
      admin.registerService(
        { id: serviceId, tenantId: "demo", keys: [{ kty: kty ?? "OKP", crv: crv ?? "Ed25519", x: x ?? "", kid, alg, use: "sig" }], audiences: Object.entries(grants).map(([audience, scopes]) => ({ audience, scopes })) },
        metadata,
        done,
      ),
    );
    return key;
  };
  const orders = await register("orders", { payments: ["payments:charge", "payments:refund"] });
  const storefront = await register("storefront", { orders: ["orders:place"], payments: ["payments:refund"] });
  const ordersKeyFile = join(dir, "orders.key.json");
  await writeFile(ordersKeyFile, JSON.stringify({ ...orders, issuer: issuer.issuer }), { mode: 0o600 });

  const shared: Record<string, string> = { PATH: env["PATH"] ?? "", TRUSTMESH_ISSUER: issuer.issuer, TRUSTMESH_ISSUER_ADDRESS: issuer.grpcAddress, TRUSTMESH_JWKS_URL: `${issuer.httpUrl}/.well-known/jwks.json` };
  if (nats !== undefined) shared["TRUSTMESH_NATS_URL"] = nats.url;
  const children: ChildProcess[] = [];
  try {
    const payments = await startChild("services/demo-payments/src/main.ts", { ...shared, DEMO_PAYMENTS_ADDRESS: "127.0.0.1:0" }, children);
    const ordersService = await startChild("services/demo-orders/src/main.ts", { ...shared, DEMO_ORDERS_ADDRESS: "127.0.0.1:0", DEMO_PAYMENTS_ADDRESS: payments, DEMO_ORDERS_KEY_FILE: ordersKeyFile, DEMO_ISSUER_PLAINTEXT: "true" }, children);
    return {
      issuer,
      natsNote: nats?.note,
      natsUrl: nats?.url,
      storeNote,
      ordersAddress: ordersService,
      paymentsAddress: payments,
      keys: { orders, storefront },
      shiftIssuerClock: (offsetMs) => {
        clockOffsetMs = offsetMs;
      },
      issue,
      admin: async (method, request) => {
        type Receipted = { receipt?: { eventId: string } };
        const metadata = await asAdmin();
        const fn = (admin as unknown as Record<string, (request: object, metadata: Metadata, done: (error: Error | null, value: Receipted) => void) => void>)[method];
        const calledAtMs = Date.now();
        return { response: await call<Receipted>((done) => fn?.call(admin, request, metadata, done)), calledAtMs };
      },
      async close() {
        await Promise.all(children.map(stopChild));
        tokens.close();
        admin.close();
        await issuer.close(1000);
        await nats?.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await Promise.all(children.map(stopChild));
    await issuer.close(1000);
    await nats?.stop();
    throw error;
  }
}

/** TRUSTMESH_NATS_URL, or a private nats-server for this run when the binary is installed. */
async function natsFor(env: Readonly<Record<string, string | undefined>>): Promise<{ url: string; note: string; stop(): Promise<void> } | undefined> {
  const configured = env["TRUSTMESH_NATS_URL"];
  if (configured !== undefined) return { url: configured, note: "NATS at TRUSTMESH_NATS_URL", stop: () => Promise.resolve() };
  try {
    const server = await startNats();
    return { url: server.url, note: "a private nats-server started for this run (no TRUSTMESH_NATS_URL)", stop: () => server.dispose() };
  } catch (error) {
    if (error instanceof HarnessError && error.code === "BINARY_NOT_FOUND") return undefined;
    throw error;
  }
}

async function newServiceKey(serviceId: string): Promise<ServiceKey> {
  const pair = await generateKeyPair("EdDSA", { extractable: true });
  const publicJwk = await exportJWK(pair.publicKey);
  const kid = await calculateJwkThumbprint(publicJwk, "sha256");
  return { serviceId, privateJwk: { ...(await exportJWK(pair.privateKey)), kid, alg: "EdDSA" } };
}

async function assertion(key: ServiceKey, issuer: string, nowMs: number): Promise<string> {
  const now = Math.floor(nowMs / 1000);
  return new SignJWT({ jti: randomBytes(16).toString("base64url") })
    .setProtectedHeader({ alg: key.privateJwk.alg, kid: key.privateJwk.kid, typ: "JWT" })
    .setIssuer(key.serviceId)
    .setSubject(key.serviceId)
    .setAudience(issuer)
    .setIssuedAt(now)
    .setExpirationTime(now + 30)
    .sign(await importJWK(key.privateJwk, key.privateJwk.alg));
}

/** One callback-style gRPC call as a promise. */
export function call<T = unknown>(start: (done: (error: Error | null, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    start((error, value) => {
      if (error === null) resolve(value);
      else reject(error);
    });
  });
}

/** Spawns a demo service and resolves with the address from its "ready" line. */
async function startChild(script: string, env: Record<string, string>, children: ChildProcess[]): Promise<string> {
  const child = spawn(process.execPath, ["--conditions=trustmesh-source", "--import", "tsx", script], { cwd: repoRoot, env, stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`${script} did not report ready within 20 s`));
    }, 20_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${String(code)} before it was ready`));
    });
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      const parsed = JSON.parse(line) as { msg?: string; address?: string };
      if (parsed.msg === "ready" && parsed.address !== undefined) {
        clearTimeout(timer);
        resolve(parsed.address);
      }
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => {
    resolve();
  }));
  child.kill("SIGTERM");
  await exited;
}
