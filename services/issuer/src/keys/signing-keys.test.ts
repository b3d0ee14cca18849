import { createVerifier } from "@trustmesh/verifier";
import { useRedis } from "@trustmesh/testing/vitest";
import { afterEach, describe, expect, it } from "vitest";
import { createMemoryStore, createRedisStore, type IssuerStore } from "../store/index.js";
import { KeyEncryptionKey } from "./key-encryption.js";
import type { KeyringTiming } from "./keyring.js";
import { SigningKeys } from "./signing-keys.js";

const MINUTE = 60_000;
const T0 = 1_767_225_600_000;
const timing: KeyringTiming = { prePublishMs: 15 * MINUTE, rotationIntervalMs: 24 * 60 * MINUTE, tokenHorizonMs: 15.5 * MINUTE };
const ISSUER = "https://issuer.trustmesh.test";

const started: SigningKeys[] = [];
afterEach(() => {
  for (const keys of started.splice(0)) keys.close();
});

function signingKeys(store: IssuerStore, clock: { now: number }, kek = KeyEncryptionKey.generate(), onRotated?: () => void, algorithm: "EdDSA" | "ES256" = "EdDSA"): SigningKeys {
  const keys = new SigningKeys({ store, kek, algorithm, timing, checkIntervalMs: 60_000, now: () => clock.now, ...(onRotated ? { onRotated } : {}) });
  started.push(keys);
  return keys;
}

async function mint(keys: SigningKeys, nowMs: number): Promise<string> {
  const iat = Math.floor(nowMs / 1000);
  const { token } = await keys.sign({ iss: ISSUER, sub: "orders", client_id: "orders", aud: "payments", iat, nbf: iat, exp: iat + 600, jti: `j-${nowMs}` });
  return token;
}

function verifierFor(keys: SigningKeys, nowMs: number) {
  return createVerifier({ issuer: ISSUER, audience: "payments", jwks: keys.jwks(), now: () => nowMs, logger: { warn: () => undefined } });
}

describe("signing keys", () => {
  it("creates a keyring on first start; its tokens verify against its JWKS", async () => {
    const clock = { now: T0 };
    const keys = signingKeys(createMemoryStore({ now: () => clock.now }), clock);
    await keys.start();
    expect(keys.list().map((key) => key.state)).toEqual(["active", "next"]);
    expect(keys.jwks().keys).toHaveLength(2);
    const token = await mint(keys, T0);
    await expect(verifierFor(keys, T0).verify(token)).resolves.toMatchObject({ kid: keys.activeKid });
  });

  it("signs ES256 with low s, so every token verifies and has one spelling", async () => {
    const clock = { now: T0 };
    const keys = signingKeys(createMemoryStore({ now: () => clock.now }), clock, undefined, undefined, "ES256");
    await keys.start();
    const verifier = verifierFor(keys, T0);
    for (let i = 0; i < 40; i++) {
      await expect(verifier.verify(await mint(keys, T0 + i))).resolves.toMatchObject({ kid: keys.activeKid });
    }
  });

  it("keeps private halves sealed at rest, bound to the KEK", async () => {
    const clock = { now: T0 };
    const store = createMemoryStore({ now: () => clock.now });
    const kek = KeyEncryptionKey.generate();
    await signingKeys(store, clock, kek).start();
    const { keys: stored } = await store.getKeyring();
    for (const key of stored) {
      expect(JSON.stringify(key)).not.toMatch(/"d"\s*:/);
      expect(key.publicJwk).not.toHaveProperty("d");
    }
    const stranger = signingKeys(store, clock, KeyEncryptionKey.generate());
    await stranger.start();
    await expect(stranger.sign({ sub: "x" })).rejects.toMatchObject({ code: "ERR_KEY_DECRYPT_FAILED" });
    const sameKek = signingKeys(store, clock, KeyEncryptionKey.fromText(kek.exportText()));
    await sameKek.start();
    await expect(sameKek.sign({ sub: "x" })).resolves.toMatchObject({ kid: stranger.activeKid });
  });

  it("rotates on schedule only after the successor was published for the window, and keeps the old key published", async () => {
    const clock = { now: T0 };
    const keys = signingKeys(createMemoryStore({ now: () => clock.now }), clock);
    await keys.start();
    const first = keys.activeKid;
    const oldToken = await mint(keys, T0 + timing.rotationIntervalMs - MINUTE);
    clock.now = T0 + timing.rotationIntervalMs - 1;
    await keys.tick();
    expect(keys.activeKid).toBe(first);
    clock.now = T0 + timing.rotationIntervalMs;
    await keys.tick();
    expect(keys.activeKid).not.toBe(first);
    expect(keys.jwks().keys.map((key) => key["kid"])).toContain(first);
    await expect(verifierFor(keys, clock.now).verify(oldToken)).resolves.toMatchObject({ kid: first });
    clock.now += timing.tokenHorizonMs;
    expect(keys.jwks().keys.map((key) => key["kid"])).not.toContain(first);
  });

  it("refuses an on-demand rotation inside the pre-publication window unless immediate", async () => {
    const clock = { now: T0 };
    const keys = signingKeys(createMemoryStore({ now: () => clock.now }), clock);
    await keys.start();
    clock.now = T0 + MINUTE;
    await expect(keys.rotate()).rejects.toMatchObject({ code: "ERR_NEXT_KEY_NOT_READY" });
    const outcome = await keys.rotate({ immediate: true });
    expect(outcome).toMatchObject({ rotated: true, activeKid: keys.activeKid });
  });

  describe("replicas sharing one Redis", () => {
    const redis = useRedis();

    it("agree on the keyring and never rotate twice at once", async () => {
      const clock = { now: T0 };
      const prefix = `signing-${Date.now()}:`;
      const kek = KeyEncryptionKey.generate();
      const stores = [0, 1, 2].map(() => createRedisStore({ url: redis().url, keyPrefix: prefix, now: () => clock.now }));
      let rotations = 0;
      const replicas = stores.map((store) => signingKeys(store, clock, kek, () => rotations++));
      await Promise.all(replicas.map((replica) => replica.start()));
      expect(new Set(replicas.map((replica) => replica.activeKid)).size).toBe(1);
      const first = replicas[0]?.activeKid;

      clock.now = T0 + timing.rotationIntervalMs;
      await Promise.all(replicas.map((replica) => replica.tick()));
      expect(rotations).toBe(1);
      await Promise.all(replicas.map((replica) => replica.reload()));
      expect(new Set(replicas.map((replica) => replica.activeKid)).size).toBe(1);
      expect(replicas[0]?.activeKid).not.toBe(first);
      expect((await stores[0]?.getKeyring())?.version).toBe(2);

      // A replica whose snapshot is older than one check interval reloads before it signs.
      const rotated = replicas[0]?.activeKid;
      clock.now += timing.rotationIntervalMs;
      await replicas[0]?.tick();
      clock.now += 60_001;
      const { kid } = (await replicas[1]?.sign({ sub: "orders" })) ?? { kid: "" };
      expect(kid).not.toBe(rotated);
      expect(kid).toBe(replicas[0]?.activeKid);
      await Promise.all(stores.map((store) => store.close()));
    });
  });
});

describe("key-encryption key", () => {
  it.each([
    ["too short", "abcd"],
    ["33 bytes of hex", "00".repeat(33)],
    ["not base64", "!".repeat(44)],
  ])("refuses a KEK that is %s", (_name, text) => {
    expect(() => KeyEncryptionKey.fromText(text)).toThrow(expect.objectContaining({ code: "ERR_KEK_INVALID" }) as Error);
  });

  it("refuses a sealed key moved to another kid", () => {
    const kek = KeyEncryptionKey.generate();
    const sealed = kek.encrypt("kid-a", Buffer.from("secret"));
    expect(kek.decrypt("kid-a", sealed).toString()).toBe("secret");
    expect(() => kek.decrypt("kid-b", sealed)).toThrow(expect.objectContaining({ code: "ERR_KEY_DECRYPT_FAILED" }) as Error);
  });

  it("reads hex and base64 forms", () => {
    const hex = "ab".repeat(32);
    const fromHex = KeyEncryptionKey.fromText(`${hex}\n`);
    expect(KeyEncryptionKey.fromText(fromHex.exportText()).exportText()).toBe(fromHex.exportText());
  });
});
