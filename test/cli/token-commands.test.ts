import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { generateTestKey, mintTestToken } from "@trustmesh/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closedPort, expectOneLineError, startTestIssuer, trustctl, type CliResult, type TestIssuer } from "./harness.js";

const CHECKS = ["format", "typ", "alg", "kid known", "signature", "iss", "aud", "exp", "nbf", "iat", "lifetime", "required claims"];

let mesh: TestIssuer;
let keyFile: string;
/** A token the issuer minted for orders → payments, for the cases that start from a good one. */
let goodToken: string;

beforeAll(async () => {
  mesh = await startTestIssuer();
  keyFile = join(mesh.dir, "orders.key.json");
  const registered = await trustctl(["service", "register", "orders", "--tenant", "acme", "--allow", "payments=payments:charge,payments:refund", "--key-out", keyFile], mesh.env);
  expect(registered, registered.stderr).toMatchObject({ code: 0 });
  goodToken = (await mint(["--scope", "payments:charge"])).stdout.trim();
});
afterAll(async () => {
  await mesh.close();
});

function mint(extra: readonly string[]): Promise<CliResult> {
  return trustctl(["token", "mint", "--as", "orders", "--key", keyFile, "--audience", "payments", ...extra], mesh.env);
}

/** The check lines of human `token inspect` output, by name: "pass", "fail" or "skip". */
function checkOutcomes(stdout: string): Record<string, string> {
  const marks: Record<string, string> = { "✓": "pass", "✗": "fail", "–": "skip" };
  const section = stdout.slice(stdout.indexOf("\nchecks\n") + "\nchecks\n".length, stdout.indexOf("\nverdict: "));
  return Object.fromEntries(
    section.split("\n").map((line): [string, string] => {
      const match = /^ {2}(\S) (.+?) {2,}/.exec(line);
      if (match === null) throw new Error(`not a check line: ${line}`);
      return [match[2] ?? "", marks[match[1] ?? ""] ?? "?"];
    }),
  );
}

/** Claims as the issuer signs them, for orders → payments, now. */
function claims(changes: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  const base: Record<string, unknown> = { iss: mesh.issuer.issuer, sub: "orders", client_id: "orders", aud: "payments", iat: now, nbf: now, exp: now + 600, jti: randomBytes(16).toString("base64url"), scope: "payments:charge", tenant_id: "acme" };
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) Reflect.deleteProperty(base, name);
    else base[name] = value;
  }
  return base;
}

async function signedByIssuer(changes: Record<string, unknown>): Promise<string> {
  return (await mesh.issuer.signingKeys.sign(claims(changes))).token;
}

describe.concurrent("token mint", () => {
  it("prints the access token alone on stdout and its expiry on stderr", async () => {
    const result = await mint(["--scope", "payments:charge"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(result.stderr).toMatch(/^expires \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(in 600 s\); audience payments; scopes payments:charge\n$/);
  });

  it("--json adds the refresh token", async () => {
    const result = await mint(["--scope", "payments:charge", "--scope", "payments:refund", "--json"]);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    const issued = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(issued).toMatchObject({ tokenType: "Bearer", expiresInSec: 600, audience: "payments", scopes: ["payments:charge", "payments:refund"] });
    expect(issued["accessToken"]).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(typeof issued["refreshToken"]).toBe("string");
    expect(issued["refreshToken"]).not.toBe("");
    expect(issued["refreshToken"]).not.toBe(issued["accessToken"]);
  });

  it.each([
    ["a scope not granted", 4, ["--scope", "payments:everything"], "trustctl: PERMISSION_DENIED: the requested audience or scopes are not granted to this service"],
    ["an audience not granted", 4, ["--audience", "inventory"], "trustctl: PERMISSION_DENIED: the requested audience or scopes are not granted to this service"],
    ["a key file of another service", 2, ["--as", "billing"], "is for service orders, not billing"],
    ["a key file that does not exist", 4, ["--key", "/nonexistent/orders.key.json"], "key file /nonexistent/orders.key.json not found"],
  ] as const)("%s exits %i", async (_, code, overrides, message) => {
    const result = await mint(overrides);
    expect(result.code).toBe(code);
    expect(result.stdout).toBe("");
    expect(expectOneLineError(result)).toContain(message);
  });

  it("a key the issuer does not know exits 4 with UNAUTHENTICATED", async () => {
    const key = await generateTestKey();
    const path = join(mesh.dir, "stranger.key.json");
    const privateJwk = { ...(key.privateKey.export({ format: "jwk" }) as Record<string, unknown>), kid: key.kid, alg: "EdDSA" };
    await writeFile(path, JSON.stringify({ serviceId: "orders", issuer: mesh.issuer.issuer, privateJwk }), { mode: 0o600 });
    const result = await mint(["--key", path]);
    expect(result.code).toBe(4);
    expect(expectOneLineError(result)).toBe("trustctl: UNAUTHENTICATED: client authentication failed");
  });
});

describe.concurrent("token inspect", () => {
  it("shows header, claims and every check passing for a token the issuer minted (exit 0)", async () => {
    const result = await trustctl(["token", "inspect", goodToken, "--audience", "payments"], mesh.env);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toMatch(/^header\n {2}alg {2}EdDSA\n/);
    expect(result.stdout).toMatch(/^ {2}sub +orders$/m);
    expect(result.stdout).toMatch(/^ {2}exp +\d+ {2}\(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)$/m);
    expect(checkOutcomes(result.stdout)).toEqual(Object.fromEntries(CHECKS.map((name) => [name, "pass"])));
    expect(result.stdout).toMatch(/\nverdict: ✓ valid: orders → payments, scopes payments:charge, until \S+\n$/);
  });

  it("--json gives the checks and the verifier's verdict; - reads the token from stdin", async () => {
    const result = await trustctl(["token", "inspect", "-", "--json"], mesh.env, `${goodToken}\n`);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    const report = JSON.parse(result.stdout) as { claims: Record<string, unknown>; checks: { name: string; ok: boolean | null }[]; verdict: { valid: boolean; claims: Record<string, unknown> } };
    expect(report.claims).toMatchObject({ sub: "orders", aud: "payments" });
    expect(report.checks.map((item) => [item.name, item.ok])).toEqual(CHECKS.map((name) => [name, true]));
    expect(report.verdict).toMatchObject({ valid: true, claims: { sub: "orders", clientId: "orders", aud: "payments", scopes: ["payments:charge"] } });
  });

  const foreignKey = generateTestKey();
  const cases: readonly [string, () => Promise<string>, readonly string[], string, readonly string[]][] = [
    ["a token whose claims were altered", () => Promise.resolve(alterClaims(goodToken, { scope: "payments:charge payments:refund" })), [], "ERR_SIGNATURE_INVALID", ["signature"]],
    ["a token whose signature was altered", () => Promise.resolve(alterSignature(goodToken)), [], "ERR_SIGNATURE_INVALID", ["signature"]],
    ["an expired token", () => signedByIssuer({ iat: now() - 1200, nbf: now() - 1200, exp: now() - 600 }), [], "ERR_TOKEN_EXPIRED", ["exp"]],
    ["a token not valid yet", () => signedByIssuer({ nbf: now() + 300 }), [], "ERR_TOKEN_NOT_YET_VALID", ["nbf"]],
    ["a token living too long", () => signedByIssuer({ exp: now() + 3600 }), [], "ERR_TOKEN_LIFETIME_EXCEEDED", ["lifetime"]],
    ["a token for another audience", () => Promise.resolve(goodToken), ["--audience", "inventory"], "ERR_AUDIENCE_MISMATCH", ["aud"]],
    ["a token from another issuer", () => signedByIssuer({ iss: "https://elsewhere.example" }), [], "ERR_ISSUER_MISMATCH", ["iss"]],
    ["a token without jti", () => signedByIssuer({ jti: undefined }), [], "ERR_CLAIM_INVALID", ["required claims"]],
    ["a token signed by a key the issuer never published", async () => mintTestToken(await foreignKey, { claims: claims() }), [], "ERR_KEY_NOT_FOUND", ["kid known"]],
    ["a token of the wrong type", async () => mintTestToken(await foreignKey, { claims: claims(), header: { typ: "JWT" } }), [], "ERR_HEADER_INVALID", ["typ", "kid known"]],
    ["text that is no JWT", () => Promise.resolve("not-a-jwt"), [], "ERR_TOKEN_MALFORMED", ["format"]],
  ];

  it.each(cases)("%s: exit 5 with the verifier's code", async (_, make, extra, code, failing) => {
    const token = await make();
    const result = await trustctl(["token", "inspect", token, ...extra], mesh.env);
    expect(result.code).toBe(5);
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(new RegExp(`\\nverdict: ✗ ${code}: [^\\n]+\\n$`));
    const outcomes = checkOutcomes(result.stdout);
    expect(Object.keys(outcomes)).toEqual(CHECKS);
    expect(Object.keys(outcomes).filter((name) => outcomes[name] === "fail")).toEqual(failing);
  });

  it("--json reports a failure with the verifier's code", async () => {
    const token = await signedByIssuer({ iat: now() - 1200, nbf: now() - 1200, exp: now() - 600 });
    const result = await trustctl(["token", "inspect", token, "--audience", "payments", "--json"], mesh.env);
    expect(result.code).toBe(5);
    const report = JSON.parse(result.stdout) as { checks: { name: string; ok: boolean | null }[]; verdict: Record<string, unknown> };
    expect(report.verdict).toEqual({ valid: false, code: "ERR_TOKEN_EXPIRED", message: "token has expired" });
    expect(report.checks.filter((item) => item.ok !== true).map((item) => item.name)).toEqual(["exp"]);
  });

  it("an unreachable JWKS exits 3 with ERR_KEYS_UNAVAILABLE, and says so on stderr", async () => {
    const url = `http://127.0.0.1:${await closedPort()}/.well-known/jwks.json`;
    const result = await trustctl(["token", "inspect", goodToken, "--jwks-url", url], mesh.env);
    expect(result.code).toBe(3);
    expect(result.stdout).toContain("verdict: ✗ ERR_KEYS_UNAVAILABLE");
    expect(checkOutcomes(result.stdout)).toMatchObject({ "kid known": "skip", signature: "skip" });
    expect(expectOneLineError(result)).toContain(`could not fetch the JWKS at ${url}`);
  });

  it("without --iss and without an admin key file it cannot know the issuer: exit 4", async () => {
    const result = await trustctl(["token", "inspect", goodToken], { ...mesh.env, TRUSTMESH_ADMIN_KEY_FILE: join(mesh.dir, "none.json") });
    expect(result.code).toBe(4);
    expect(expectOneLineError(result)).toContain("admin key file");
    expect(result.stderr).not.toContain(goodToken);
  });

  it("--iss and --jwks-url need no admin key file", async () => {
    const result = await trustctl(["token", "inspect", goodToken, "--iss", mesh.issuer.issuer, "--jwks-url", `${mesh.issuer.httpUrl}/.well-known/jwks.json`], { TRUSTMESH_ADMIN_KEY_FILE: join(mesh.dir, "none.json") });
    expect(result.code).toBe(0);
  });
});

function now(): number {
  return Math.floor(Date.now() / 1000);
}

function alterClaims(token: string, changes: Record<string, unknown>): string {
  const [header, payload, signature] = token.split(".") as [string, string, string];
  const altered = { ...(JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>), ...changes };
  return `${header}.${Buffer.from(JSON.stringify(altered)).toString("base64url")}.${signature}`;
}

/** Flips one bit in the middle of the signature: still canonical base64url, no longer valid. */
function alterSignature(token: string): string {
  const [header, payload, signature] = token.split(".") as [string, string, string];
  const bytes = Buffer.from(signature, "base64url");
  bytes[10] = (bytes[10] ?? 0) ^ 1;
  return `${header}.${payload}.${bytes.toString("base64url")}`;
}

