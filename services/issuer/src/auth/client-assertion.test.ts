import { generateTestKey, signRawToken, withChanges, type TestSigningKey } from "@trustmesh/testing";
import { SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { AssertionError, authenticateClient, type AssertingService, type AssertionFailure, type ClientAssertionOptions } from "./client-assertion.js";

const ISSUER = "https://issuer.trustmesh.test";
const NOW_SEC = 1_767_225_600;
let key: TestSigningKey;
let second: TestSigningKey;
let stranger: TestSigningKey;
let es: TestSigningKey;

beforeAll(async () => {
  [key, second, stranger, es] = await Promise.all([generateTestKey(), generateTestKey(), generateTestKey(), generateTestKey("ES256")]);
});

function setup(overrides: Partial<AssertingService> = {}): ClientAssertionOptions & { used: Set<string> } {
  const used = new Set<string>();
  const services = new Map<string, AssertingService>([
    ["orders", { id: "orders", status: "active", keys: [key.publicJwk, second.publicJwk, es.publicJwk], ...overrides }],
    ["disabled", { id: "disabled", status: "disabled", keys: [key.publicJwk] }],
  ]);
  return {
    issuer: ISSUER,
    used,
    now: () => NOW_SEC * 1000,
    findService: (id) => Promise.resolve(services.get(id)),
    consumeJti: (id, jti) => {
      const fresh = !used.has(`${id}/${jti}`);
      used.add(`${id}/${jti}`);
      return Promise.resolve(fresh);
    },
  };
}

let serial = 0;
function assertionClaims(changes: Record<string, unknown> = {}): Record<string, unknown> {
  return withChanges({ iss: "orders", sub: "orders", aud: ISSUER, iat: NOW_SEC, exp: NOW_SEC + 30, jti: `a-${++serial}` }, changes);
}

function assertion(changes: Record<string, unknown> = {}, header: Record<string, unknown> = {}, signer: TestSigningKey = key): string {
  return signRawToken(signer, withChanges({ alg: signer.alg, kid: signer.kid, typ: "JWT" }, header), assertionClaims(changes));
}

async function failureOf(promise: Promise<unknown>): Promise<AssertionFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AssertionError);
  return (error as AssertionError).reason;
}

describe("client assertions (RFC 7523 private_key_jwt)", () => {
  it.each([
    ["EdDSA, typ JWT", () => assertion()],
    ["the service's second key (mid-rotation)", () => assertion({}, {}, second)],
    ["ES256", () => assertion({}, {}, es)],
    ["no typ", () => assertion({}, { typ: undefined })],
    ["typ client-authentication+jwt", () => assertion({}, { typ: "client-authentication+jwt" })],
    ["aud as a one-element array", () => assertion({ aud: [ISSUER] })],
  ])("accepts %s", async (_name, make) => {
    await expect(authenticateClient(make(), setup())).resolves.toMatchObject({ service: { id: "orders" } });
  });

  it("accepts an assertion signed by jose as a client library would", async () => {
    const token = await new SignJWT({ jti: "jose-1" })
      .setProtectedHeader({ alg: "EdDSA", kid: key.kid })
      .setIssuer("orders")
      .setSubject("orders")
      .setAudience(ISSUER)
      .setIssuedAt(NOW_SEC)
      .setExpirationTime(NOW_SEC + 60)
      .sign(key.privateKey);
    await expect(authenticateClient(token, setup())).resolves.toMatchObject({ jti: "jose-1", kid: key.kid });
  });

  it("accepts ES256 assertions in either half of s, as any client library signs them", async () => {
    const tokens = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        new SignJWT({ jti: `es-${i}` }).setProtectedHeader({ alg: "ES256", kid: es.kid }).setIssuer("orders").setSubject("orders").setAudience(ISSUER).setIssuedAt(NOW_SEC).setExpirationTime(NOW_SEC + 60).sign(es.privateKey),
      ),
    );
    const options = setup();
    for (const token of tokens) await expect(authenticateClient(token, options)).resolves.toBeDefined();
  });

  const cases: [string, () => string, AssertionFailure][] = [
    ["an iss outside the service-id syntax", () => assertion({ iss: "Orders", sub: "Orders" }), "malformed"],
    ["a jti with a space", () => assertion({ jti: "a b" }), "bad-claims"],
    ["an empty string", () => "", "malformed"],
    ["garbage", () => "not.a.jwt", "malformed"],
    ["no iss", () => assertion({ iss: undefined }), "malformed"],
    ["an unknown service", () => assertion({ iss: "ghost", sub: "ghost" }), "unknown-service"],
    ["a disabled service", () => assertion({ iss: "disabled", sub: "disabled" }), "disabled-service"],
    ["a key the service never registered", () => assertion({}, {}, stranger), "bad-signature"],
    ["a registered kid signed by another key", () => assertion({}, { kid: key.kid }, stranger), "bad-signature"],
    ["an access token passed as an assertion (typ at+jwt)", () => assertion({}, { typ: "at+jwt" }), "bad-signature"],
    ["alg none", () => `${Buffer.from(JSON.stringify({ alg: "none", kid: key.kid })).toString("base64url")}.${Buffer.from(JSON.stringify(assertionClaims())).toString("base64url")}.`, "bad-signature"],
    ["crit", () => assertion({}, { crit: ["exp"] }), "bad-signature"],
    ["sub other than iss", () => assertion({ sub: "payments" }), "bad-claims"],
    ["aud another server", () => assertion({ aud: "https://elsewhere.test" }), "bad-claims"],
    ["aud with two entries", () => assertion({ aud: [ISSUER, "https://elsewhere.test"] }), "bad-claims"],
    ["no aud", () => assertion({ aud: undefined }), "bad-claims"],
    ["no jti", () => assertion({ jti: undefined }), "bad-claims"],
    ["no exp", () => assertion({ exp: undefined }), "bad-claims"],
    ["no iat", () => assertion({ iat: undefined }), "bad-claims"],
    ["exp as a string", () => assertion({ exp: String(NOW_SEC + 30) }), "bad-claims"],
    ["expired", () => assertion({ iat: NOW_SEC - 90, exp: NOW_SEC - 31 }), "expired"],
    ["issued in the future", () => assertion({ iat: NOW_SEC + 31, exp: NOW_SEC + 60 }), "not-yet-valid"],
    ["nbf in the future", () => assertion({ nbf: NOW_SEC + 31 }), "not-yet-valid"],
    ["a lifetime over 60 s", () => assertion({ exp: NOW_SEC + 61 }), "lifetime-too-long"],
    ["exp equal to iat", () => assertion({ exp: NOW_SEC }), "lifetime-too-long"],
  ];
  it.each(cases)("rejects %s as %s", async (_name, make, reason) => {
    expect(await failureOf(authenticateClient(make(), setup()))).toBe(reason);
  });

  it("rejects a replayed assertion, and a failed one does not use up its jti", async () => {
    const options = setup();
    const claims = { jti: "once" };
    expect(await failureOf(authenticateClient(assertion({ ...claims, aud: "https://elsewhere.test" }), options))).toBe("bad-claims");
    const token = assertion(claims);
    await authenticateClient(token, options);
    expect(await failureOf(authenticateClient(token, options))).toBe("replayed");
  });

  it("never names token text in its messages", async () => {
    const error = (await authenticateClient(assertion({ iss: "ghost-secret", sub: "ghost-secret" }), setup()).catch((e: unknown) => e)) as Error;
    expect(error.message).not.toContain("secret");
  });
});
