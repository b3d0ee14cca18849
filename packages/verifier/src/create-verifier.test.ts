import { generateKeyPairSync } from "node:crypto";
import {
  generateTestKey,
  jwksOf,
  mintTestToken,
  profileClaims,
  profileHeader,
  signRawToken,
  TEST_AUDIENCE,
  TEST_ISSUER,
  TEST_NOW_SEC,
  withChanges,
  type TestSigningKey,
} from "@trustmesh/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { createVerifier, InMemoryRevocationList, VerifyError, type VerifierOptions, type VerifyErrorCode } from "./index.js";

const frozenNow = (): number => TEST_NOW_SEC * 1000;
let ed: TestSigningKey;
let es: TestSigningKey;
let other: TestSigningKey;

beforeAll(async () => {
  [ed, es, other] = await Promise.all([generateTestKey("EdDSA"), generateTestKey("ES256"), generateTestKey("EdDSA")]);
});

function verifierFor(options: Partial<VerifierOptions> = {}) {
  return createVerifier({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwks: jwksOf(ed, es), now: frozenNow, logger: silent, ...options });
}

const silent = { warn: () => undefined };

async function codeOf(promise: Promise<unknown>): Promise<VerifyErrorCode> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(VerifyError);
    return (error as VerifyError).code;
  }
  throw new Error("expected the token to be rejected");
}

const b64 = (text: string): string => Buffer.from(text).toString("base64url");

describe("accepts well-formed tokens", () => {
  it.each(["EdDSA", "ES256"] as const)("%s: returns typed claims", async (alg) => {
    const key = alg === "EdDSA" ? ed : es;
    const claims = profileClaims({ nowSec: TEST_NOW_SEC });
    const token = await mintTestToken(key, { nowSec: TEST_NOW_SEC, claims });
    await expect(verifierFor().verify(token)).resolves.toEqual({
      iss: TEST_ISSUER,
      sub: "orders",
      clientId: "orders",
      aud: TEST_AUDIENCE,
      scopes: ["payments:charge", "payments:refund"],
      tenantId: "acme",
      jti: claims["jti"],
      iat: TEST_NOW_SEC,
      nbf: TEST_NOW_SEC,
      exp: TEST_NOW_SEC + 600,
      kid: key.kid,
    });
  });

  it.each([
    ["aud as a one-element array", { aud: [TEST_AUDIENCE] }, {}],
    ["no scope claim", { scope: undefined }, {}],
    ["an empty scope", { scope: "" }, {}],
    ["no tenant", { tenant_id: undefined }, {}],
    ["the full media type typ", {}, { typ: "application/at+jwt" }],
    ["typ in upper case", {}, { typ: "AT+JWT" }],
    ["jku, x5u, jwk, x5c in the header (ignored)", {}, { jku: "https://evil.test/jwks", x5u: "https://evil.test/x5u", jwk: { kty: "oct", k: "AAAA" }, x5c: ["AAAA"] }],
    ["exp just inside the tolerance", { exp: TEST_NOW_SEC - 29, iat: TEST_NOW_SEC - 600, nbf: TEST_NOW_SEC - 600 }, {}],
    ["nbf and iat just inside the tolerance", { iat: TEST_NOW_SEC + 30, nbf: TEST_NOW_SEC + 30, exp: TEST_NOW_SEC + 600 }, {}],
    ["a lifetime of exactly the maximum", { exp: TEST_NOW_SEC + 900 }, {}],
  ])("%s", async (_name, claims, header) => {
    const token = await mintTestToken(ed, { nowSec: TEST_NOW_SEC, claims, header });
    await expect(verifierFor().verify(token)).resolves.toMatchObject({ sub: "orders" });
  });

  it("freezes the claims it hands out", async () => {
    const claims = await verifierFor().verify(await mintTestToken(ed, { nowSec: TEST_NOW_SEC }));
    expect(Object.isFrozen(claims)).toBe(true);
    expect(Object.isFrozen(claims.scopes)).toBe(true);
  });
});

describe("rejects claims that break the profile", () => {
  const now = TEST_NOW_SEC;
  const cases: [string, Record<string, unknown>, VerifyErrorCode, string?][] = [
    ["another issuer", { iss: "https://evil.test" }, "ERR_ISSUER_MISMATCH"],
    ["an issuer with a trailing slash", { iss: `${TEST_ISSUER}/` }, "ERR_ISSUER_MISMATCH"],
    ["no issuer", { iss: undefined }, "ERR_CLAIM_INVALID", "iss"],
    ["a numeric issuer", { iss: 7 }, "ERR_CLAIM_INVALID", "iss"],
    ["another audience", { aud: "orders" }, "ERR_AUDIENCE_MISMATCH"],
    ["two audiences including ours", { aud: [TEST_AUDIENCE, "orders"] }, "ERR_AUDIENCE_MISMATCH"],
    ["an empty audience array", { aud: [] }, "ERR_CLAIM_INVALID", "aud"],
    ["no audience", { aud: undefined }, "ERR_CLAIM_INVALID", "aud"],
    ["a non-string audience", { aud: [1] }, "ERR_CLAIM_INVALID", "aud"],
    ["expired", { iat: now - 700, nbf: now - 700, exp: now - 31 }, "ERR_TOKEN_EXPIRED"],
    ["expired exactly at the tolerance", { iat: now - 630, nbf: now - 630, exp: now - 30 }, "ERR_TOKEN_EXPIRED"],
    ["not yet valid", { nbf: now + 31 }, "ERR_TOKEN_NOT_YET_VALID", "nbf"],
    ["issued in the future", { iat: now + 31, nbf: now }, "ERR_TOKEN_NOT_YET_VALID", "iat"],
    ["lifetime over 15 minutes", { exp: now + 901 }, "ERR_TOKEN_LIFETIME_EXCEEDED"],
    ["a day-long token", { exp: now + 86_400 }, "ERR_TOKEN_LIFETIME_EXCEEDED"],
    ["exp before iat", { iat: now, nbf: now - 5, exp: now - 1 }, "ERR_CLAIM_INVALID", "exp"],
    ["exp equal to iat", { iat: now, nbf: now - 5, exp: now }, "ERR_CLAIM_INVALID", "exp"],
    ["exp as a string", { exp: String(now + 600) }, "ERR_CLAIM_INVALID", "exp"],
    ["exp as Infinity (1e400 in JSON)", { exp: "__INFINITY__" }, "ERR_CLAIM_INVALID", "exp"],
    ["no exp", { exp: undefined }, "ERR_CLAIM_INVALID", "exp"],
    ["no iat", { iat: undefined }, "ERR_CLAIM_INVALID", "iat"],
    ["no nbf", { nbf: undefined }, "ERR_CLAIM_INVALID", "nbf"],
    ["a negative iat", { iat: -1 }, "ERR_CLAIM_INVALID", "iat"],
    ["no sub", { sub: undefined }, "ERR_CLAIM_INVALID", "sub"],
    ["an empty sub", { sub: "" }, "ERR_CLAIM_INVALID", "sub"],
    ["an object sub", { sub: { toString: "orders" } }, "ERR_CLAIM_INVALID", "sub"],
    ["a 257-character sub", { sub: "s".repeat(257), client_id: "s".repeat(257) }, "ERR_CLAIM_INVALID", "sub"],
    ["no client_id", { client_id: undefined }, "ERR_CLAIM_INVALID", "client_id"],
    ["client_id other than sub", { client_id: "payments" }, "ERR_CLAIM_INVALID", "client_id"],
    ["no jti", { jti: undefined }, "ERR_CLAIM_INVALID", "jti"],
    ["a numeric jti", { jti: 12345 }, "ERR_CLAIM_INVALID", "jti"],
    ["a scope array", { scope: ["payments:charge"] }, "ERR_CLAIM_INVALID", "scope"],
    ["a scope with a double space", { scope: "a  b" }, "ERR_CLAIM_INVALID", "scope"],
    ["a scope with a leading space", { scope: " a" }, "ERR_CLAIM_INVALID", "scope"],
    ["a scope with a quote", { scope: 'a"b' }, "ERR_CLAIM_INVALID", "scope"],
    ["an empty tenant", { tenant_id: "" }, "ERR_CLAIM_INVALID", "tenant_id"],
    ["a numeric tenant", { tenant_id: 1 }, "ERR_CLAIM_INVALID", "tenant_id"],
  ];
  it.each(cases)("%s -> %s", async (_name, changes, code, claim) => {
    let payload = JSON.stringify(withChanges(profileClaims({ nowSec: now }), changes));
    payload = payload.replace('"__INFINITY__"', "1e400");
    const token = signRawToken(ed, profileHeader(ed), payload);
    const error = await verifierFor().verify(token).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VerifyError);
    expect((error as VerifyError).code).toBe(code);
    if (claim !== undefined) expect((error as VerifyError).claim).toBe(claim);
  });

  it("reads only own members: a __proto__ member supplies no claim", async () => {
    const claims = withChanges(profileClaims({ nowSec: now }), { sub: undefined });
    const payload = JSON.stringify(claims).replace(/^\{/, '{"__proto__":{"sub":"orders"},');
    expect(await codeOf(verifierFor().verify(signRawToken(ed, profileHeader(ed), payload)))).toBe("ERR_CLAIM_INVALID");
  });

  it("lowers the maximum lifetime when configured", async () => {
    const token = await mintTestToken(ed, { nowSec: now, lifetimeSec: 600 });
    expect(await codeOf(verifierFor({ maxTokenLifetimeSec: 300 }).verify(token))).toBe("ERR_TOKEN_LIFETIME_EXCEEDED");
  });
});

describe("rejects hostile and malformed tokens", () => {
  const cases: [string, () => Promise<string> | string, VerifyErrorCode][] = [
    ["an empty string", () => "", "ERR_TOKEN_MALFORMED"],
    ["two segments", () => `${b64('{"alg":"EdDSA"}')}.${b64("{}")}`, "ERR_TOKEN_MALFORMED"],
    ["four segments", async () => `${await mintTestToken(ed, { nowSec: TEST_NOW_SEC })}.AAAA`, "ERR_TOKEN_MALFORMED"],
    ["an empty signature (alg none shape)", async () => (await mintTestToken(ed, { nowSec: TEST_NOW_SEC })).replace(/\.[^.]+$/, "."), "ERR_TOKEN_MALFORMED"],
    ["a JWE-shaped five-part token", () => "a.b.c.d.e", "ERR_TOKEN_MALFORMED"],
    ["padding", async () => `${await mintTestToken(ed, { nowSec: TEST_NOW_SEC })}==`, "ERR_TOKEN_MALFORMED"],
    ["standard base64 characters", async () => (await mintTestToken(ed, { nowSec: TEST_NOW_SEC })).replace(/.$/, "+"), "ERR_TOKEN_MALFORMED"],
    ["a standard base64 slash", async () => (await mintTestToken(ed, { nowSec: TEST_NOW_SEC })).replace(/^./, "/"), "ERR_TOKEN_MALFORMED"],
    ["a space in it", async () => ` ${await mintTestToken(ed, { nowSec: TEST_NOW_SEC })}`, "ERR_TOKEN_MALFORMED"],
    ["a trailing newline", async () => `${await mintTestToken(ed, { nowSec: TEST_NOW_SEC })}\n`, "ERR_TOKEN_MALFORMED"],
    ["non-ASCII", async () => `${await mintTestToken(ed, { nowSec: TEST_NOW_SEC })}é`, "ERR_TOKEN_MALFORMED"],
    ["a non-canonical final character (same bytes, other string)", async () => malleateTrailingBits(await mintTestToken(ed, { nowSec: TEST_NOW_SEC })), "ERR_TOKEN_MALFORMED"],
    ["a header that is not JSON", () => raw("{alg:EdDSA}"), "ERR_TOKEN_MALFORMED"],
    ["a header that is a JSON array", () => raw("[]"), "ERR_TOKEN_MALFORMED"],
    ["a header that is JSON null", () => raw("null"), "ERR_TOKEN_MALFORMED"],
    ["a header with invalid UTF-8", () => `${Buffer.from([0x7b, 0xff, 0x7d]).toString("base64url")}.${b64("{}")}.AAAA`, "ERR_TOKEN_MALFORMED"],
    ["a payload that is not JSON", () => raw(profileHeader(ed), "not json"), "ERR_TOKEN_MALFORMED"],
    ["a payload that is a JSON string", () => raw(profileHeader(ed), '"claims"'), "ERR_TOKEN_MALFORMED"],
    ["a duplicate claim name", () => raw(profileHeader(ed), JSON.stringify(claims()).replace(/^\{/, '{"sub":"admin",')), "ERR_TOKEN_MALFORMED"],
    ["a duplicate claim name spelled with an escape", () => raw(profileHeader(ed), JSON.stringify(claims()).replace(/^\{/, '{"\\u0073ub":"admin",')), "ERR_TOKEN_MALFORMED"],
    ["a duplicate header parameter", () => raw(`{"alg":"EdDSA","kid":"${ed.kid}","typ":"at+jwt","alg":"none"}`), "ERR_TOKEN_MALFORMED"],
    ["over 8 KiB", () => raw(profileHeader(ed), { ...claims(), pad: "x".repeat(8192) }), "ERR_TOKEN_TOO_LARGE"],
    ["alg none", () => `${b64(JSON.stringify({ alg: "none", kid: ed.kid, typ: "at+jwt" }))}.${b64(JSON.stringify(claims()))}.AAAA`, "ERR_ALG_NOT_ALLOWED"],
    ["alg HS256 (key confusion)", () => raw({ ...profileHeader(ed), alg: "HS256" }), "ERR_ALG_NOT_ALLOWED"],
    ["alg RS256", () => raw({ ...profileHeader(ed), alg: "RS256" }), "ERR_ALG_NOT_ALLOWED"],
    ["alg as an array", () => raw({ ...profileHeader(ed), alg: ["EdDSA"] }), "ERR_ALG_NOT_ALLOWED"],
    ["no alg", () => raw({ kid: ed.kid, typ: "at+jwt" }), "ERR_ALG_NOT_ALLOWED"],
    ["ES256 claimed for an Ed25519 key (alg confusion)", () => raw({ ...profileHeader(ed), alg: "ES256" }), "ERR_ALG_NOT_ALLOWED"],
    ["EdDSA claimed for a P-256 key", () => raw({ ...profileHeader(es), alg: "EdDSA" }, claims(), es), "ERR_ALG_NOT_ALLOWED"],
    ["no typ", () => raw({ alg: "EdDSA", kid: ed.kid }), "ERR_HEADER_INVALID"],
    ["typ JWT", () => raw({ ...profileHeader(ed), typ: "JWT" }), "ERR_HEADER_INVALID"],
    ["typ of a client assertion", () => raw({ ...profileHeader(ed), typ: "client-authentication+jwt" }), "ERR_HEADER_INVALID"],
    ["crit, even empty", () => raw({ ...profileHeader(ed), crit: [] }), "ERR_HEADER_INVALID"],
    ["crit with b64 (unencoded payload)", () => raw({ ...profileHeader(ed), crit: ["b64"], b64: false }), "ERR_HEADER_INVALID"],
    ["no kid", () => raw({ alg: "EdDSA", typ: "at+jwt" }), "ERR_HEADER_INVALID"],
    ["a numeric kid", () => raw({ ...profileHeader(ed), kid: 1 }), "ERR_HEADER_INVALID"],
    ["an unknown kid", () => raw({ ...profileHeader(ed), kid: "unknown" }), "ERR_KEY_NOT_FOUND"],
    ["a kid of an Object.prototype member", () => raw({ ...profileHeader(ed), kid: "constructor" }), "ERR_KEY_NOT_FOUND"],
    ["a kid path traversal", () => raw({ ...profileHeader(ed), kid: "../../dev/null" }), "ERR_KEY_NOT_FOUND"],
    ["the key embedded in the header (jwk injection)", () => raw({ ...profileHeader(other), jwk: other.publicJwk }, claims(), other), "ERR_KEY_NOT_FOUND"],
    ["a jku pointing elsewhere", () => raw({ ...profileHeader(other), jku: "https://evil.test/jwks.json" }, claims(), other), "ERR_KEY_NOT_FOUND"],
    ["signed by an untrusted key under a trusted kid", () => raw(profileHeader(ed), claims(), other), "ERR_SIGNATURE_INVALID"],
    ["a claim changed after signing", async () => tamperPayload(await mintTestToken(ed, { nowSec: TEST_NOW_SEC })), "ERR_SIGNATURE_INVALID"],
    ["a header changed after signing", async () => tamperHeader(await mintTestToken(ed, { nowSec: TEST_NOW_SEC })), "ERR_SIGNATURE_INVALID"],
    ["a truncated signature", async () => truncateSignature(await mintTestToken(ed, { nowSec: TEST_NOW_SEC })), "ERR_SIGNATURE_INVALID"],
    ["a signature one byte too long", async () => extendSignature(await mintTestToken(ed, { nowSec: TEST_NOW_SEC })), "ERR_SIGNATURE_INVALID"],
    ["an Ed25519 signature with S + L (malleated)", async () => malleateEd25519(await mintTestToken(ed, { nowSec: TEST_NOW_SEC })), "ERR_SIGNATURE_INVALID"],
    ["an ECDSA signature of zeros (psychic signature)", () => withSignature(raw(profileHeader(es), claims(), es), Buffer.alloc(64)), "ERR_SIGNATURE_INVALID"],
    ["an ECDSA signature with r = n", () => withSignature(raw(profileHeader(es), claims(), es), Buffer.concat([P256_N, Buffer.alloc(31), Buffer.from([1])])), "ERR_SIGNATURE_INVALID"],
    ["an ECDSA signature in DER form", () => derSignature(raw(profileHeader(es), claims(), es)), "ERR_SIGNATURE_INVALID"],
    ["an ECDSA signature with s replaced by n - s (malleated)", () => highS(raw(profileHeader(es), claims(), es)), "ERR_SIGNATURE_INVALID"],
  ];
  it.each(cases)("%s -> %s", async (_name, make, code) => {
    expect(await codeOf(verifierFor().verify(await make()))).toBe(code);
  });

  it.each([
    ["undefined", undefined],
    ["a number", 42],
    ["an object", { toString: () => "x.y.z" }],
    ["a Buffer", Buffer.from("a.b.c")],
  ])("%s instead of a string -> ERR_TOKEN_MALFORMED", async (_name, value) => {
    expect(await codeOf(verifierFor().verify(value as unknown as string))).toBe("ERR_TOKEN_MALFORMED");
  });

  it("never puts token text in an error message", async () => {
    const payload: Record<string, unknown> = { ...claims(), sub: "secret-sub" };
    const token = raw({ ...profileHeader(ed), kid: "kid-that-is-secret-looking" }, payload);
    const error = (await verifierFor().verify(token).catch((e: unknown) => e)) as VerifyError;
    expect(error.message).not.toContain("secret");
    expect(JSON.stringify(error)).not.toContain("secret");
    const garbage = `${b64('{"alg":"EdDSA",')}.${b64("secret-payload")}.AAAA`;
    const malformed = (await verifierFor().verify(garbage).catch((e: unknown) => e)) as VerifyError;
    expect(`${malformed.message} ${String(malformed.cause)}`).not.toContain("secret");
  });
});

describe("keys", () => {
  it("drops unusable and weak keys from a JWKS, logging them by kid", async () => {
    const warnings: Record<string, unknown>[] = [];
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ format: "jwk" });
    const ed448 = generateKeyPairSync("ed448").publicKey.export({ format: "jwk" });
    const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" }).publicKey.export({ format: "jwk" });
    const privateEd = ed.privateKey.export({ format: "jwk" });
    const smallOrder = { kty: "OKP", crv: "Ed25519", x: Buffer.alloc(32).toString("base64url"), kid: "small-order" };
    const identityNegative = { kty: "OKP", crv: "Ed25519", x: Buffer.from("01" + "00".repeat(30) + "80", "hex").toString("base64url"), kid: "identity-signed" };
    const nonCanonicalY = { kty: "OKP", crv: "Ed25519", x: Buffer.from("ee" + "ff".repeat(30) + "7f", "hex").toString("base64url"), kid: "non-canonical" };
    const offCurve = { kty: "EC", crv: "P-256", x: Buffer.alloc(32, 1).toString("base64url"), y: Buffer.alloc(32, 2).toString("base64url"), kid: "off-curve" };
    const jwks = {
      keys: [
        { ...rsa, kid: "rsa", alg: "RS256" },
        { kty: "oct", k: "c2VjcmV0", kid: "hmac", alg: "HS256" },
        { ...ed448, kid: "ed448" },
        { ...p384, kid: "p384" },
        { ...privateEd, kid: "private" },
        smallOrder,
        identityNegative,
        nonCanonicalY,
        offCurve,
        { ...ed.publicJwk, kid: "enc-use", use: "enc" },
        { ...ed.publicJwk, kid: "ops", key_ops: ["encrypt"] },
        { ...ed.publicJwk, kid: "wrong-alg", alg: "ES256" },
        { ...ed.publicJwk, kid: "short-x", x: "AAAA" },
        { ...ed.publicJwk, kid: undefined },
        "not an object",
        ed.publicJwk,
      ],
    };
    const verifier = createVerifier({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwks: jwks as never, now: frozenNow, logger: { warn: (fields) => warnings.push(fields) } });
    const dropped = warnings.map((w) => w["kid"]).filter((kid) => kid !== undefined);
    expect(dropped).toEqual(["rsa", "hmac", "ed448", "p384", "private", "small-order", "identity-signed", "non-canonical", "off-curve", "enc-use", "ops", "wrong-alg", "short-x", "<undefined>"]);
    expect(verifier.keySource.current(ed.kid)).toBeDefined();
    expect(await codeOf(verifier.verify(raw({ ...profileHeader(ed), kid: "hmac", alg: "HS256" })))).toBe("ERR_ALG_NOT_ALLOWED");
    expect(await codeOf(verifier.verify(raw({ ...profileHeader(ed), kid: "small-order" })))).toBe("ERR_KEY_NOT_FOUND");
  });

  it("refuses a forgery under a small-order key even though raw OpenSSL would take it", async () => {
    const identity = Buffer.from("01" + "00".repeat(31), "hex");
    const jwks = { keys: [{ kty: "OKP", crv: "Ed25519", x: identity.toString("base64url"), kid: "identity" }] };
    const verifier = createVerifier({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwks, now: frozenNow, logger: silent });
    // R = identity, S = 0 satisfies [S]B = R + [k]A for A = identity, whatever the message.
    const forged = `${b64(JSON.stringify({ alg: "EdDSA", kid: "identity", typ: "at+jwt" }))}.${b64(JSON.stringify(claims()))}.${Buffer.concat([identity, Buffer.alloc(32)]).toString("base64url")}`;
    expect(await codeOf(verifier.verify(forged))).toBe("ERR_KEY_NOT_FOUND");
  });

  it("drops every key of a kid that appears twice", async () => {
    const warnings: Record<string, unknown>[] = [];
    const verifier = createVerifier({
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
      jwks: { keys: [ed.publicJwk, { ...other.publicJwk, kid: ed.kid }, es.publicJwk] },
      now: frozenNow,
      logger: { warn: (fields) => warnings.push(fields) },
    });
    expect(await codeOf(verifier.verify(await mintTestToken(ed, { nowSec: TEST_NOW_SEC })))).toBe("ERR_KEY_NOT_FOUND");
    await expect(verifier.verify(await mintTestToken(es, { nowSec: TEST_NOW_SEC }))).resolves.toBeDefined();
    expect(warnings).toEqual([expect.objectContaining({ kid: ed.kid })]);
  });
});

describe("revocation", () => {
  it.each([
    ["jti", (list: InMemoryRevocationList, c: Record<string, unknown>) => list.revokeToken(c["jti"] as string)],
    ["subject", (list: InMemoryRevocationList) => list.revokeSubject("orders", TEST_NOW_SEC + 1)],
    ["kid", (list: InMemoryRevocationList) => list.revokeKey(ed.kid)],
  ] as const)("a revoked %s is rejected, also from the cache", async (reason, revoke) => {
    const revocation = new InMemoryRevocationList();
    const verifier = verifierFor({ revocation });
    const claims = profileClaims({ nowSec: TEST_NOW_SEC });
    const token = await mintTestToken(ed, { nowSec: TEST_NOW_SEC, claims });
    await verifier.verify(token);
    revoke(revocation, claims);
    const error = (await verifier.verify(token).catch((e: unknown) => e)) as VerifyError;
    expect(error.code).toBe("ERR_TOKEN_REVOKED");
    expect(error.reason).toBe(reason);
    // One full verification: the second call was answered from the cache, revocation and all.
    expect(verifier.cacheStats().misses).toBe(1);
  });

  it("a subject revocation spares tokens issued at or after its time", async () => {
    const revocation = new InMemoryRevocationList().revokeSubject("orders", TEST_NOW_SEC);
    await expect(verifierFor({ revocation }).verify(await mintTestToken(ed, { nowSec: TEST_NOW_SEC }))).resolves.toBeDefined();
  });

  it.each([
    ["unavailable", () => "unavailable" as const],
    ["a throwing check", () => {
      throw new Error("feed down");
    }],
    ["a rejected promise", () => Promise.reject(new Error("feed down"))],
    ["an unknown answer", () => "maybe" as never],
  ])("fails closed on %s", async (_name, check) => {
    const token = await mintTestToken(ed, { nowSec: TEST_NOW_SEC });
    expect(await codeOf(verifierFor({ revocation: { check } }).verify(token))).toBe("ERR_REVOCATION_UNAVAILABLE");
  });
});

describe("verified-token cache", () => {
  it("serves a repeated token from the cache, and still checks its expiry", async () => {
    let nowMs = frozenNow();
    const verifier = verifierFor({ now: () => nowMs });
    const token = await mintTestToken(ed, { nowSec: TEST_NOW_SEC, lifetimeSec: 60 });
    await verifier.verify(token);
    await verifier.verify(token);
    expect(verifier.cacheStats()).toMatchObject({ size: 1, hits: 1 });
    nowMs += 91_000;
    expect(await codeOf(verifier.verify(token))).toBe("ERR_TOKEN_EXPIRED");
    expect(verifier.cacheStats().size).toBe(0);
  });

  it("keys on the exact string: a near-copy is verified on its own", async () => {
    const verifier = verifierFor();
    const token = await mintTestToken(ed, { nowSec: TEST_NOW_SEC });
    await verifier.verify(token);
    expect(await codeOf(verifier.verify(malleateTrailingBits(token)))).toBe("ERR_TOKEN_MALFORMED");
  });

  it("a flood of bad tokens evicts nothing", async () => {
    const verifier = verifierFor({ cacheMaxEntries: 4 });
    const good = await Promise.all([1, 2, 3].map(() => mintTestToken(ed, { nowSec: TEST_NOW_SEC })));
    for (const token of good) await verifier.verify(token);
    const forged = raw(profileHeader(ed), claims(), other);
    for (let i = 0; i < 2_000; i++) {
      await verifier.verify(i % 2 === 0 ? forged : `${forged}${i}`).catch(() => undefined);
    }
    const hitsBefore = verifier.cacheStats().hits;
    for (const token of good) await verifier.verify(token);
    expect(verifier.cacheStats()).toMatchObject({ size: 3, hits: hitsBefore + 3 });
  });

  it("holds at most its bound, dropping the oldest", async () => {
    const verifier = verifierFor({ cacheMaxEntries: 2 });
    const tokens = await Promise.all([1, 2, 3].map(() => mintTestToken(ed, { nowSec: TEST_NOW_SEC })));
    for (const token of tokens) await verifier.verify(token);
    expect(verifier.cacheStats().size).toBe(2);
  });
});

describe("options are validated at construction", () => {
  const base = { issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwks: { keys: [] } };
  it.each([
    ["no issuer", { issuer: "" }, "issuer"],
    ["no audience", { audience: undefined }, "audience"],
    ["both jwks and keySource", { keySource: {} }, "jwks"],
    ["neither jwks nor keySource", { jwks: undefined }, "jwks"],
    ["HS256 allowed", { algorithms: ["HS256"] }, "algorithms"],
    ["none allowed", { algorithms: ["none"] }, "algorithms"],
    ["no algorithm", { algorithms: [] }, "algorithms"],
    ["a lifetime over 15 minutes", { maxTokenLifetimeSec: 901 }, "maxTokenLifetimeSec"],
    ["a negative tolerance", { clockToleranceSec: -1 }, "clockToleranceSec"],
    ["a fractional tolerance", { clockToleranceSec: 0.5 }, "clockToleranceSec"],
    ["a size limit over 64 KiB", { maxTokenBytes: 1 << 20 }, "maxTokenBytes"],
  ])("%s", (_name, change, option) => {
    expect(() => createVerifier({ ...base, ...change } as never)).toThrow(expect.objectContaining({ code: "ERR_VERIFIER_OPTIONS", option }));
  });
});

const P256_N = Buffer.from("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551", "hex");
const ED25519_L = (1n << 252n) + 27742317777372353535851937790883648493n;

function claims(): Record<string, unknown> {
  return profileClaims({ nowSec: TEST_NOW_SEC });
}

function raw(header: object | string, payload: object | string = claims(), key: TestSigningKey = ed): string {
  return signRawToken(key, header, payload);
}

function parts(token: string): [string, string, string] {
  return token.split(".") as [string, string, string];
}

function withSignature(token: string, signature: Buffer): string {
  const [h, p] = parts(token);
  return `${h}.${p}.${signature.toString("base64url")}`;
}

function truncateSignature(token: string): string {
  return withSignature(token, Buffer.from(parts(token)[2], "base64url").subarray(0, 63));
}

function extendSignature(token: string): string {
  return withSignature(token, Buffer.concat([Buffer.from(parts(token)[2], "base64url"), Buffer.alloc(1)]));
}

/** Sets an unused low bit of the last character: Node decodes it to the same bytes. */
function malleateTrailingBits(token: string): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const last = token.at(-1) as string;
  const changed = `${token.slice(0, -1)}${alphabet[alphabet.indexOf(last) | 1] as string}`;
  expect(Buffer.from(parts(changed)[2], "base64url").equals(Buffer.from(parts(token)[2], "base64url"))).toBe(true);
  return changed;
}

function tamperPayload(token: string): string {
  const [h, p, s] = parts(token);
  const payload = JSON.parse(Buffer.from(p, "base64url").toString()) as Record<string, unknown>;
  return `${h}.${b64(JSON.stringify({ ...payload, scope: "payments:admin" }))}.${s}`;
}

function tamperHeader(token: string): string {
  const [, p, s] = parts(token);
  return `${b64(JSON.stringify({ ...profileHeader(ed), typ: "application/at+jwt" }))}.${p}.${s}`;
}

/** S' = S + L is the same point arithmetic, so a lax verifier accepts it as a second spelling. */
function malleateEd25519(token: string): string {
  const signature = Buffer.from(parts(token)[2], "base64url");
  const s = BigInt(`0x${Buffer.from(signature.subarray(32)).reverse().toString("hex")}`) + ED25519_L;
  const sBytes = Buffer.from(s.toString(16).padStart(64, "0"), "hex").reverse();
  return withSignature(token, Buffer.concat([signature.subarray(0, 32), sBytes]));
}

/** (r, n - s) verifies as (r, s) does under plain ECDSA: the second spelling of one token. */
function highS(token: string): string {
  const signature = Buffer.from(parts(token)[2], "base64url");
  const s = BigInt(`0x${signature.subarray(32).toString("hex")}`);
  const flipped = BigInt(`0x${P256_N.toString("hex")}`) - s;
  return withSignature(token, Buffer.concat([signature.subarray(0, 32), Buffer.from(flipped.toString(16).padStart(64, "0"), "hex")]));
}

function derSignature(token: string): string {
  const signature = Buffer.from(parts(token)[2], "base64url");
  const der = Buffer.concat([Buffer.from([0x30, 68, 0x02, 32]), signature.subarray(0, 32), Buffer.from([0x02, 32]), signature.subarray(32)]);
  return withSignature(token, der);
}
