import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issuerV1, revocationV1 } from "@trustmesh/proto";

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL("..", import.meta.url));
const buf = join(repoRoot, "node_modules", ".bin", "buf");
const committedGen = join(repoRoot, "packages", "proto", "src", "gen");

async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .sort();
}

async function differingFiles(expectedRoot: string, actualRoot: string): Promise<string[]> {
  const [expected, actual] = await Promise.all([listFiles(expectedRoot), listFiles(actualRoot)]);
  const all = [...new Set([...expected, ...actual])].sort();
  const differing: string[] = [];
  for (const file of all) {
    if (!expected.includes(file)) {
      differing.push(`${file} (committed but not generated)`);
    } else if (!actual.includes(file)) {
      differing.push(`${file} (generated but not committed)`);
    } else {
      const [a, b] = await Promise.all([readFile(join(expectedRoot, file)), readFile(join(actualRoot, file))]);
      if (!a.equals(b)) differing.push(`${file} (contents differ)`);
    }
  }
  return differing;
}

describe("packages/proto/src/gen", () => {
  let outDir = "";

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), "trustmesh-gen-"));
  });

  afterAll(async () => {
    if (outDir !== "") await rm(outDir, { recursive: true, force: true });
  });

  it("is exactly what `buf generate` produces from proto/", async () => {
    await run(buf, ["generate", "-o", outDir], { cwd: repoRoot });
    const differing = await differingFiles(join(outDir, "packages", "proto", "src", "gen"), committedGen);
    expect(differing, "run `pnpm gen` and commit the result").toEqual([]);
  });
});

describe("revocationV1.RevocationEvent", () => {
  // Past 2^32 on purpose: int64 fields must survive forceLong=number without truncation.
  const revokedAtUnixMs = 1_767_225_600_123;
  const targets: { name: string; target: revocationV1.RevocationEvent["target"] }[] = [
    { name: "token", target: { $case: "token", value: { jti: "j-1", sub: "svc-a", expUnix: 1_767_226_200 } } },
    {
      name: "subject",
      target: { $case: "subject", value: { sub: "svc-a", issuedBeforeUnix: 1_767_225_600, expiresAtUnix: 1_767_226_500 } },
    },
    { name: "signing key", target: { $case: "signingKey", value: { kid: "kid-1", expiresAtUnix: 1_767_226_500 } } },
  ];

  it.each(targets)("round-trips a $name revocation", ({ target }) => {
    const event: revocationV1.RevocationEvent = {
      id: "evt-1",
      target,
      reason: "compromised",
      actor: "oncall@example.test",
      revokedAtUnixMs,
    };
    const decoded = revocationV1.RevocationEvent.decode(revocationV1.RevocationEvent.encode(event).finish());
    expect(decoded).toEqual(event);
  });
});

describe("issuerV1.TokenIssuerService", () => {
  it("defines the three unary methods on the TokenIssuer service path", () => {
    const methods = Object.entries(issuerV1.TokenIssuerService).map(([name, method]) => ({
      name,
      path: method.path,
      streaming: method.requestStream || method.responseStream,
    }));
    expect(methods).toEqual([
      { name: "issueToken", path: "/trustmesh.issuer.v1.TokenIssuer/IssueToken", streaming: false },
      { name: "refreshToken", path: "/trustmesh.issuer.v1.TokenIssuer/RefreshToken", streaming: false },
      { name: "getJwks", path: "/trustmesh.issuer.v1.TokenIssuer/GetJwks", streaming: false },
    ]);
  });
});
