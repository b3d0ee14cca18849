import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { credentials } from "@grpc/grpc-js";
import { issuerV1 } from "@trustmesh/proto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { unary } from "./issuer-harness.js";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "trustmesh-issuer-process-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function runIssuer(env: Record<string, string>) {
  const child = spawn(process.execPath, ["--conditions=trustmesh-source", "--import", "tsx", "services/issuer/src/main.ts"], {
    cwd: repoRoot,
    env: { PATH: process.env["PATH"] ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: Record<string, unknown>[] = [];
  const waiters: { test: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }[] = [];
  createInterface({ input: child.stdout }).on("line", (text) => {
    const line = JSON.parse(text) as Record<string, unknown>;
    lines.push(line);
    for (const waiter of waiters.filter((w) => w.test(line))) waiter.resolve(line);
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const logged = (msg: string): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const seen = lines.find((line) => line["msg"] === msg);
      if (seen !== undefined) resolve(seen);
      else waiters.push({ test: (line) => line["msg"] === msg, resolve });
      void exited.then(() => {
        reject(new Error(`issuer exited before logging "${msg}": ${stderr}`));
      });
    });
  return { child, lines, logged, exited, stderr: () => stderr };
}

it("runs as a process and shuts down gracefully on SIGTERM", async () => {
  const issuer = runIssuer({ TRUSTMESH_GRPC_ADDRESS: "127.0.0.1:0", TRUSTMESH_HTTP_ADDRESS: "127.0.0.1:0", TRUSTMESH_ADMIN_KEY_FILE: join(dir, "admin.json") });
  const started = await issuer.logged("issuer started");
  const client = new issuerV1.TokenIssuerClient(started["grpc"] as string, credentials.createInsecure());
  const jwks = await unary<issuerV1.GetJwksResponse>(client, "getJwks", {});
  expect(jwks.keys.map((key) => key.kid)).toContain(started["activeKid"]);
  client.close();
  issuer.child.kill("SIGTERM");
  expect(await issuer.exited).toBe(0);
  expect(issuer.lines.map((line) => line["msg"])).toEqual(expect.arrayContaining(["shutting down", "issuer stopped"]));
});

it.each([
  ["a token lifetime over 15 minutes", { TRUSTMESH_ACCESS_TOKEN_TTL_SEC: "3600" }, "TRUSTMESH_ACCESS_TOKEN_TTL_SEC"],
  ["Redis without a key-encryption key", { TRUSTMESH_REDIS_URL: "redis://127.0.0.1:1" }, "TRUSTMESH_KEK_FILE"],
])("refuses to start with %s: exit 2, one line naming the variable", async (_name, env, variable) => {
  const issuer = runIssuer(env);
  expect(await issuer.exited).toBe(2);
  expect(issuer.stderr().trim().split("\n")).toEqual([expect.stringContaining(variable)]);
});
