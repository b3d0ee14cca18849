import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentials, loadPackageDefinition, status, type Client } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { useRedis } from "@trustmesh/testing/vitest";
import { generateTestKey, mintClientAssertion, type TestSigningKey } from "@trustmesh/testing";
import { adminV1, type issuerV1 } from "@trustmesh/proto";
import { createRemoteKeySource, createVerifier } from "@trustmesh/verifier";
import { protoPath as healthProto } from "grpc-health-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, startTestIssuer, statusOf, unary, type TestIssuer } from "./issuer-harness.js";

const secrets: string[] = [];
const remember = (value: string): string => {
  secrets.push(value);
  return value;
};

async function register(issuer: TestIssuer, id: string, key: TestSigningKey, audiences: Record<string, string[]>): Promise<adminV1.ServiceIdentity | undefined> {
  const request: adminV1.RegisterServiceRequest = {
    id,
    tenantId: "acme",
    keys: [{ kty: key.publicJwk.kty as string, crv: key.publicJwk.crv as string, x: key.publicJwk.x as string, ...(key.publicJwk.y ? { y: key.publicJwk.y } : {}), kid: key.kid, alg: key.alg, use: "sig" }],
    audiences: Object.entries(audiences).map(([audience, scopes]) => ({ audience, scopes })),
  };
  const response = await unary<adminV1.RegisterServiceResponse>(issuer.admin, "registerService", request, bearer(remember(await issuer.adminToken())));
  return response.service;
}

async function issue(issuer: TestIssuer, id: string, key: TestSigningKey, audience: string, scopes: string[]): Promise<issuerV1.TokenResponse> {
  const clientAssertion = remember(await mintClientAssertion(key, { serviceId: id, issuer: issuer.running.issuer }));
  const response = await unary<issuerV1.TokenResponse>(issuer.tokens, "issueToken", { clientAssertion, audience, scopes });
  remember(response.accessToken);
  remember(response.refreshToken);
  return response;
}

describe("the issuer over loopback (embedded store)", () => {
  let issuer: TestIssuer;
  let orders: TestSigningKey;

  beforeAll(async () => {
    issuer = await startTestIssuer();
    orders = await generateTestKey("EdDSA");
    await register(issuer, "orders", orders, { payments: ["payments:charge", "payments:refund"] });
  });
  afterAll(async () => {
    await issuer.close();
  });

  it("answers health checks", async () => {
    const health = loadPackageDefinition(loadSync(healthProto, { enums: String })) as unknown as { grpc: { health: { v1: { Health: new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => Client } } } };
    const client = new health.grpc.health.v1.Health(issuer.running.grpcAddress, credentials.createInsecure());
    await expect(unary(client, "check", { service: "" })).resolves.toEqual({ status: "SERVING" });
    await expect(unary(client, "check", { service: "trustmesh.issuer.v1.TokenIssuer" })).resolves.toEqual({ status: "SERVING" });
    client.close();
  });

  it("publishes the same JWKS over HTTP and gRPC, with cache headers and RFC 8414 metadata", async () => {
    const response = await fetch(`${issuer.running.httpUrl}/.well-known/jwks.json`);
    expect(response.headers.get("cache-control")).toMatch(/max-age=\d+/);
    expect(response.headers.get("content-type")).toBe("application/jwk-set+json");
    const http = (await response.json()) as { keys: { kid: string }[] };
    const grpc = await unary<issuerV1.GetJwksResponse>(issuer.tokens, "getJwks", {});
    expect(grpc.keys.map((key) => key.kid)).toEqual(http.keys.map((key) => key.kid));
    expect(http.keys).toHaveLength(2);
    expect(JSON.stringify(http)).not.toMatch(/"d"/);
    const metadata = (await (await fetch(`${issuer.running.httpUrl}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({ issuer: issuer.running.issuer, jwks_uri: `${issuer.running.issuer}/.well-known/jwks.json`, token_endpoint_auth_methods_supported: ["private_key_jwt"] });
  });

  it("mints a token that a remote verifier accepts through the HTTP JWKS", async () => {
    const issued = await issue(issuer, "orders", orders, "payments", ["payments:charge"]);
    expect(issued).toMatchObject({ tokenType: "Bearer", expiresInSec: 600, audience: "payments", scopes: ["payments:charge"] });
    const keySource = createRemoteKeySource({ url: `${issuer.running.httpUrl}/.well-known/jwks.json` });
    await keySource.ready();
    const verifier = createVerifier({ issuer: issuer.running.issuer, audience: "payments", keySource });
    await expect(verifier.verify(issued.accessToken)).resolves.toMatchObject({ sub: "orders", scopes: ["payments:charge"], tenantId: "acme" });
    await keySource.close();
  });

  it("rotates refresh tokens and revokes the family on reuse", async () => {
    const first = await issue(issuer, "orders", orders, "payments", ["payments:charge"]);
    const refresh = async (refreshToken: string) => {
      const clientAssertion = remember(await mintClientAssertion(orders, { serviceId: "orders", issuer: issuer.running.issuer }));
      const response = await unary<issuerV1.TokenResponse>(issuer.tokens, "refreshToken", { clientAssertion, refreshToken });
      remember(response.refreshToken);
      remember(response.accessToken);
      return response;
    };
    const second = await refresh(first.refreshToken);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(await statusOf(refresh(first.refreshToken))).toBe(status.UNAUTHENTICATED);
    expect(await statusOf(refresh(second.refreshToken))).toBe(status.UNAUTHENTICATED);
    expect(issuer.logs.some((line) => line.includes("refresh token reused"))).toBe(true);
  });

  it.each([
    ["an audience not granted", "inventory", ["payments:charge"], status.PERMISSION_DENIED],
    ["a scope not granted", "payments", ["payments:admin"], status.PERMISSION_DENIED],
    ["no audience", "", [], status.INVALID_ARGUMENT],
  ])("IssueToken refuses %s", async (_name, audience, scopes, code) => {
    expect(await statusOf(issue(issuer, "orders", orders, audience, scopes))).toBe(code);
  });

  it("IssueToken answers one generic UNAUTHENTICATED for a bad assertion", async () => {
    const stranger = await generateTestKey();
    const error = await issue(issuer, "orders", stranger, "payments", []).catch((e: unknown) => e as { code: number; details: string });
    expect(error).toMatchObject({ code: status.UNAUTHENTICATED, details: "client authentication failed" });
  });

  describe("the admin API", () => {
    it.each([
      ["no token", () => Promise.resolve(undefined), status.UNAUTHENTICATED],
      ["a token for another audience", async () => (await issue(issuer, "orders", orders, "payments", [])).accessToken, status.UNAUTHENTICATED],
      ["a token for the admin audience without trustmesh:admin", async () => {
        const viewer = await generateTestKey();
        await register(issuer, `viewer-${Date.now()}`, viewer, { [issuer.running.adminAudience]: ["trustmesh:read"] });
        const id = (await unary<adminV1.ListServicesResponse>(issuer.admin, "listServices", { pageSize: 0, pageToken: "" }, bearer(await issuer.adminToken()))).services.find((s) => s.id.startsWith("viewer-"))?.id ?? "";
        return (await issue(issuer, id, viewer, issuer.running.adminAudience, ["trustmesh:read"])).accessToken;
      }, status.PERMISSION_DENIED],
    ])("refuses %s", async (_name, token, code) => {
      const value = await token();
      const metadata = value === undefined ? undefined : bearer(value);
      expect(await statusOf(unary(issuer.admin, "listServices", { pageSize: 0, pageToken: "" }, metadata))).toBe(code);
    });

    it("lists, gets and disables identities; a disabled service gets no token", async () => {
      const key = await generateTestKey("ES256");
      await register(issuer, "inventory", key, { payments: ["payments:charge"] });
      const admin = bearer(await issuer.adminToken());
      const listed = await unary<adminV1.ListServicesResponse>(issuer.admin, "listServices", { pageSize: 0, pageToken: "" }, admin);
      expect(listed.services.map((service) => service.id)).toEqual(expect.arrayContaining(["inventory", "orders", "trustmesh-admin"]));
      await expect(issue(issuer, "inventory", key, "payments", ["payments:charge"])).resolves.toBeDefined();
      const disabled = await unary<adminV1.DisableServiceResponse>(issuer.admin, "disableService", { id: "inventory", reason: "test" }, admin);
      expect(disabled.service?.status).toBe(adminV1.ServiceStatus.SERVICE_STATUS_DISABLED);
      expect(await statusOf(issue(issuer, "inventory", key, "payments", ["payments:charge"]))).toBe(status.UNAUTHENTICATED);
      expect(await statusOf(unary(issuer.admin, "getService", { id: "nobody" }, admin))).toBe(status.NOT_FOUND);
    });

    it.each([
      ["a duplicate id", "orders", (key: TestSigningKey) => key.kid, status.ALREADY_EXISTS],
      ["a kid that is not the key's thumbprint", "thumbless", () => "not-the-thumbprint", status.INVALID_ARGUMENT],
      ["an id outside the syntax", "Bad Id!", (key: TestSigningKey) => key.kid, status.INVALID_ARGUMENT],
    ])("RegisterService refuses %s", async (_name, id, kid, code) => {
      const key = await generateTestKey();
      const request: adminV1.RegisterServiceRequest = { id, tenantId: "acme", keys: [{ kty: "OKP", crv: "Ed25519", x: key.publicJwk.x as string, kid: kid(key), alg: "EdDSA", use: "sig" }], audiences: [] };
      expect(await statusOf(unary(issuer.admin, "registerService", request, bearer(await issuer.adminToken())))).toBe(code);
    });

    it("rotates signing keys: refused inside the pre-publication window, done when forced", async () => {
      const admin = bearer(await issuer.adminToken());
      expect(await statusOf(unary(issuer.admin, "rotateSigningKey", { force: false }, admin))).toBe(status.FAILED_PRECONDITION);
      const rotated = await unary<adminV1.RotateSigningKeyResponse>(issuer.admin, "rotateSigningKey", { force: true }, admin);
      const listed = await unary<adminV1.ListSigningKeysResponse>(issuer.admin, "listSigningKeys", {}, admin);
      expect(listed.keys.find((key) => key.kid === rotated.activeKid)?.state).toBe(adminV1.SigningKeyState.SIGNING_KEY_STATE_ACTIVE);
      expect(listed.keys.map((key) => key.state)).toContain(adminV1.SigningKeyState.SIGNING_KEY_STATE_RETIRED);
    });
  });

  it("never logs a token, an assertion, a refresh token or key material", () => {
    expect(secrets.length).toBeGreaterThan(10);
    const all = issuer.logs.join("\n");
    for (const line of issuer.logs) expect(() => JSON.parse(line) as unknown).not.toThrow();
    for (const secret of secrets) {
      expect(all).not.toContain(secret);
      expect(all).not.toContain(secret.split(".")[2] ?? secret);
    }
    expect(all).not.toMatch(/"d":/);
    expect(all).not.toMatch(/tmr_[A-Za-z0-9_-]{22}_/);
  });
});

describe("two issuer replicas sharing Redis", () => {
  const redis = useRedis();
  let a: TestIssuer;
  let b: TestIssuer;
  let orders: TestSigningKey;

  beforeAll(async () => {
    const kekFile = join(tmpdir(), `trustmesh-kek-${process.pid}-${Date.now()}`);
    await writeFile(kekFile, Buffer.alloc(32, 7).toString("base64"), { mode: 0o600 });
    const env = { TRUSTMESH_REDIS_URL: redis().url, TRUSTMESH_KEK_FILE: kekFile, TRUSTMESH_ISSUER: "https://issuer.trustmesh.test" };
    a = await startTestIssuer(env);
    b = await startTestIssuer({ ...env, TRUSTMESH_ADMIN_KEY_FILE: a.adminKeyFile });
    orders = await generateTestKey();
    await register(a, "orders", orders, { payments: ["payments:charge"] });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it("agree on keys and identities: a token from one refreshes at the other", async () => {
    const jwks = async (issuer: TestIssuer) => ((await (await fetch(`${issuer.running.httpUrl}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map((key) => key.kid);
    expect(await jwks(b)).toEqual(await jwks(a));
    const first = await issue(a, "orders", orders, "payments", ["payments:charge"]);
    const clientAssertion = await mintClientAssertion(orders, { serviceId: "orders", issuer: b.running.issuer });
    await expect(unary(b.tokens, "refreshToken", { clientAssertion, refreshToken: first.refreshToken })).resolves.toMatchObject({ audience: "payments" });
  });

  it("reject an assertion replayed from one replica to the other", async () => {
    const clientAssertion = await mintClientAssertion(orders, { serviceId: "orders", issuer: a.running.issuer });
    await unary(a.tokens, "issueToken", { clientAssertion, audience: "payments", scopes: [] });
    expect(await statusOf(unary(b.tokens, "issueToken", { clientAssertion, audience: "payments", scopes: [] }))).toBe(status.UNAUTHENTICATED);
  });

  it("answer UNAVAILABLE, not INTERNAL, while Redis is down", async () => {
    const clientAssertion = await mintClientAssertion(orders, { serviceId: "orders", issuer: a.running.issuer });
    await redis().stop();
    const error = await unary(a.tokens, "issueToken", { clientAssertion, audience: "payments", scopes: [] }).catch((e: unknown) => e as { code: number; details: string });
    expect(error).toMatchObject({ code: status.UNAVAILABLE });
    expect((error as { details: string }).details).toMatch(/unavailable/);
  });
});
