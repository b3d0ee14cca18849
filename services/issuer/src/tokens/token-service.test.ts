import { generateTestKey, mintClientAssertion, TEST_ISSUER, type TestSigningKey } from "@trustmesh/testing";
import { createVerifier } from "@trustmesh/verifier";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { IssuerError, type IssuerErrorCode } from "../issuer-error.js";
import { KeyEncryptionKey } from "../keys/key-encryption.js";
import { SigningKeys } from "../keys/signing-keys.js";
import { createMemoryStore, type AccessTokenRef, type IssuerStore } from "../store/index.js";
import { TokenService } from "./token-service.js";

const NOW_MS = 1_767_225_600_000;
let ordersKey: TestSigningKey;
let inventoryKey: TestSigningKey;

beforeAll(async () => {
  [ordersKey, inventoryKey] = await Promise.all([generateTestKey(), generateTestKey("ES256")]);
});

interface Fixture {
  readonly store: IssuerStore;
  readonly service: TokenService;
  readonly signingKeys: SigningKeys;
  readonly revoked: { familyId: string; accessTokens: readonly AccessTokenRef[] }[];
  readonly clock: { now: number };
}

const open: Fixture[] = [];
afterEach(async () => {
  for (const fixture of open.splice(0)) {
    fixture.signingKeys.close();
    await fixture.store.close();
  }
});

async function fixture(): Promise<Fixture> {
  const clock = { now: NOW_MS };
  const now = (): number => clock.now;
  const store = createMemoryStore({ now });
  const timing = { prePublishMs: 900_000, rotationIntervalMs: 86_400_000, tokenHorizonMs: 930_000 };
  const signingKeys = new SigningKeys({ store, kek: KeyEncryptionKey.generate(), algorithm: "EdDSA", timing, checkIntervalMs: 60_000, now });
  await signingKeys.start();
  await store.registerService({ id: "orders", tenantId: "acme", keys: [ordersKey.publicJwk], audiences: { payments: ["payments:charge", "payments:refund"] } });
  await store.registerService({ id: "inventory", tenantId: "acme", keys: [inventoryKey.publicJwk], audiences: { payments: ["payments:charge"] } });
  const revoked: Fixture["revoked"] = [];
  const service = new TokenService({
    issuer: TEST_ISSUER,
    store,
    signingKeys,
    accessTokenTtlSec: 600,
    refreshTokenTtlSec: 86_400,
    now,
    onFamilyRevoked: (event) => {
      revoked.push(event);
    },
  });
  const made = { store, service, signingKeys, revoked, clock };
  open.push(made);
  return made;
}

const assertion = (key: TestSigningKey, serviceId: string, clock: { now: number }, claims?: Record<string, unknown>): Promise<string> =>
  mintClientAssertion(key, { serviceId, nowSec: Math.floor(clock.now / 1000), ...(claims ? { claims } : {}) });

async function codeOf(promise: Promise<unknown>): Promise<IssuerErrorCode> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(IssuerError);
  return (error as IssuerError).code;
}

describe("IssueToken", () => {
  it("mints an audience-scoped token of the profile that the verifier accepts", async () => {
    const f = await fixture();
    const issued = await f.service.issue({ clientAssertion: await assertion(ordersKey, "orders", f.clock), audience: "payments", scopes: ["payments:charge"] });
    expect(issued).toMatchObject({ expiresInSec: 600, expiresAtUnix: NOW_MS / 1000 + 600, audience: "payments", scopes: ["payments:charge"] });
    expect(issued.refreshToken).toMatch(/^tmr_/);
    const verifier = createVerifier({ issuer: TEST_ISSUER, audience: "payments", jwks: f.signingKeys.jwks(), now: () => f.clock.now });
    await expect(verifier.verify(issued.accessToken)).resolves.toMatchObject({
      sub: "orders",
      clientId: "orders",
      aud: "payments",
      scopes: ["payments:charge"],
      tenantId: "acme",
      jti: issued.jti,
      kid: f.signingKeys.activeKid,
    });
  });

  it.each([
    ["an audience not granted", "inventory", ["payments:charge"], "ERR_PERMISSION_DENIED"],
    ["a scope not granted (escalation)", "payments", ["payments:charge", "payments:admin"], "ERR_PERMISSION_DENIED"],
    ["an empty audience", "", [], "ERR_INVALID_ARGUMENT"],
    ["a scope with a space", "payments", ["payments:charge payments:admin"], "ERR_INVALID_ARGUMENT"],
    ["an audience that is an Object.prototype member", "constructor", [], "ERR_PERMISSION_DENIED"],
  ] as const)("refuses %s", async (_name, audience, scopes, code) => {
    const f = await fixture();
    expect(await codeOf(f.service.issue({ clientAssertion: await assertion(ordersKey, "orders", f.clock), audience, scopes }))).toBe(code);
  });

  it.each([
    ["an unknown service", async (f: Fixture) => assertion(ordersKey, "ghost", f.clock)],
    ["a key registered to another service", async (f: Fixture) => assertion(inventoryKey, "orders", f.clock)],
    ["an expired assertion", async (f: Fixture) => assertion(ordersKey, "orders", { now: f.clock.now - 120_000 })],
    ["an assertion for another audience", async (f: Fixture) => assertion(ordersKey, "orders", f.clock, { aud: "https://elsewhere.test" })],
    ["a disabled service", async (f: Fixture) => {
      await f.store.disableService("orders");
      return assertion(ordersKey, "orders", f.clock);
    }],
  ])("answers one generic UNAUTHENTICATED for %s", async (_name, make) => {
    const f = await fixture();
    const error = (await f.service.issue({ clientAssertion: await make(f), audience: "payments", scopes: [] }).catch((e: unknown) => e)) as IssuerError;
    expect(error.code).toBe("ERR_UNAUTHENTICATED");
    expect(error.message).toBe("client authentication failed");
  });

  it("refuses a replayed assertion", async () => {
    const f = await fixture();
    const clientAssertion = await assertion(ordersKey, "orders", f.clock);
    await f.service.issue({ clientAssertion, audience: "payments", scopes: [] });
    expect(await codeOf(f.service.issue({ clientAssertion, audience: "payments", scopes: [] }))).toBe("ERR_UNAUTHENTICATED");
  });

  it("answers UNAVAILABLE when the store is gone", async () => {
    const f = await fixture();
    const clientAssertion = await assertion(ordersKey, "orders", f.clock);
    await f.store.close();
    expect(await codeOf(f.service.issue({ clientAssertion, audience: "payments", scopes: [] }))).toBe("ERR_UNAVAILABLE");
  });
});

describe("RefreshToken", () => {
  async function issued(f: Fixture) {
    return f.service.issue({ clientAssertion: await assertion(ordersKey, "orders", f.clock), audience: "payments", scopes: ["payments:charge"] });
  }

  it("rotates: a new access token and a new refresh token, same audience and scopes", async () => {
    const f = await fixture();
    const first = await issued(f);
    const second = await f.service.refresh({ clientAssertion: await assertion(ordersKey, "orders", f.clock), refreshToken: first.refreshToken });
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(second.jti).not.toBe(first.jti);
    expect(second).toMatchObject({ audience: "payments", scopes: ["payments:charge"] });
  });

  it("a reused refresh token revokes the whole family and every access token minted from it", async () => {
    const f = await fixture();
    const first = await issued(f);
    const second = await f.service.refresh({ clientAssertion: await assertion(ordersKey, "orders", f.clock), refreshToken: first.refreshToken });
    expect(await codeOf(f.service.refresh({ clientAssertion: await assertion(ordersKey, "orders", f.clock), refreshToken: first.refreshToken }))).toBe("ERR_UNAUTHENTICATED");
    expect(f.revoked).toHaveLength(1);
    expect(f.revoked[0]?.accessTokens.map((token) => token.jti).sort()).toEqual([first.jti, second.jti].sort());
    expect(await codeOf(f.service.refresh({ clientAssertion: await assertion(ordersKey, "orders", f.clock), refreshToken: second.refreshToken }))).toBe("ERR_UNAUTHENTICATED");
  });

  it("of ten concurrent refreshes of one token exactly one succeeds", async () => {
    const f = await fixture();
    const first = await issued(f);
    const attempts = await Promise.allSettled(
      Array.from({ length: 10 }, async () => f.service.refresh({ clientAssertion: await assertion(ordersKey, "orders", f.clock), refreshToken: first.refreshToken })),
    );
    expect(attempts.filter((attempt) => attempt.status === "fulfilled")).toHaveLength(1);
  });

  it.each([
    ["another client's assertion (the token is bound to its client)", async (f: Fixture) => assertion(inventoryKey, "inventory", f.clock)],
  ])("refuses %s and leaves the token usable by its owner", async (_name, make) => {
    const f = await fixture();
    const first = await issued(f);
    expect(await codeOf(f.service.refresh({ clientAssertion: await make(f), refreshToken: first.refreshToken }))).toBe("ERR_UNAUTHENTICATED");
    await expect(f.service.refresh({ clientAssertion: await assertion(ordersKey, "orders", f.clock), refreshToken: first.refreshToken })).resolves.toBeDefined();
  });

  it.each(["", "tmr_garbage", "not-a-refresh-token", `tmr_${"A".repeat(22)}_${"A".repeat(43)}`])("refuses refresh token %j", async (refreshToken) => {
    const f = await fixture();
    expect(await codeOf(f.service.refresh({ clientAssertion: await assertion(ordersKey, "orders", f.clock), refreshToken }))).toBe("ERR_UNAUTHENTICATED");
  });

  it("refuses an expired refresh token", async () => {
    const f = await fixture();
    const first = await issued(f);
    f.clock.now += 86_401_000;
    expect(await codeOf(f.service.refresh({ clientAssertion: await assertion(ordersKey, "orders", f.clock), refreshToken: first.refreshToken }))).toBe("ERR_UNAUTHENTICATED");
  });

  it("refuses a refresh once the service has lost the grant", async () => {
    const f = await fixture();
    const first = await issued(f);
    const identity = await f.store.getService("orders");
    await f.store.updateService("orders", identity?.revision ?? 0, { audiences: { payments: ["payments:refund"] } });
    expect(await codeOf(f.service.refresh({ clientAssertion: await assertion(ordersKey, "orders", f.clock), refreshToken: first.refreshToken }))).toBe("ERR_PERMISSION_DENIED");
  });
});
