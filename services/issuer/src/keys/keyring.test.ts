import { describe, expect, it } from "vitest";
import { activeKey, initialKeyring, isRotationDue, KeyringError, nextKey, publishedKeys, rotate, type KeyringTiming, type NewKey } from "./keyring.js";

const MINUTE = 60_000;
const timing: KeyringTiming = { prePublishMs: 15 * MINUTE, rotationIntervalMs: 24 * 60 * MINUTE, tokenHorizonMs: 15.5 * MINUTE };
const T0 = 1_767_225_600_000;
let serial = 0;
const fresh = (): NewKey => ({ kid: `k${++serial}`, alg: "EdDSA", encryptedPrivateKey: "sealed", publicJwk: { kid: `k${serial}` } });
const kids = (keys: readonly { kid: string }[]): string[] => keys.map((key) => key.kid);

describe("keyring lifecycle", () => {
  it("starts with an active key and a published successor", () => {
    const keys = initialKeyring(fresh(), fresh(), T0);
    expect(activeKey(keys).kid).toBe(keys[0]?.kid);
    expect(nextKey(keys)?.kid).toBe(keys[1]?.kid);
    expect(kids(publishedKeys(keys, T0))).toEqual(kids(keys));
  });

  it("publishes the next key for the whole window before it signs", () => {
    const keys = initialKeyring(fresh(), fresh(), T0);
    const next = nextKey(keys)?.kid;
    expect(() => rotate(keys, fresh(), T0 + timing.prePublishMs - 1, timing)).toThrow(
      expect.objectContaining({ code: "ERR_NEXT_KEY_NOT_READY" }) as KeyringError,
    );
    const rotated = rotate(keys, fresh(), T0 + timing.prePublishMs, timing);
    expect(activeKey(rotated).kid).toBe(next);
  });

  it("an immediate rotation skips the window (a compromised key)", () => {
    const keys = initialKeyring(fresh(), fresh(), T0);
    expect(activeKey(rotate(keys, fresh(), T0 + 1, timing, { immediate: true })).kid).toBe(nextKey(keys)?.kid);
  });

  it("keeps a retired key published until every token it signed has expired", () => {
    const keys = initialKeyring(fresh(), fresh(), T0);
    const first = activeKey(keys).kid;
    const at = T0 + timing.rotationIntervalMs;
    const rotated = rotate(keys, fresh(), at, timing);
    expect(rotated.find((key) => key.kid === first)).toMatchObject({ state: "retired", retiredAtMs: at, publishUntilMs: at + timing.tokenHorizonMs });
    expect(kids(publishedKeys(rotated, at + timing.tokenHorizonMs - 1))).toContain(first);
    expect(kids(publishedKeys(rotated, at + timing.tokenHorizonMs))).not.toContain(first);
    // The next rotation drops it from the stored keyring too.
    const again = rotate(rotated, fresh(), at + timing.rotationIntervalMs, timing);
    expect(kids(again)).not.toContain(first);
    expect(again.filter((key) => key.state === "active")).toHaveLength(1);
  });

  it("is due on the interval after activation", () => {
    const keys = initialKeyring(fresh(), fresh(), T0);
    expect(isRotationDue(keys, T0 + timing.rotationIntervalMs - 1, timing)).toBe(false);
    expect(isRotationDue(keys, T0 + timing.rotationIntervalMs, timing)).toBe(true);
  });

  it.each([
    ["no active key", () => initialKeyring(fresh(), fresh(), T0).map((key) => ({ ...key, state: "next" as const })), "ERR_KEYRING_INVALID"],
    ["two active keys", () => initialKeyring(fresh(), fresh(), T0).map((key) => ({ ...key, state: "active" as const })), "ERR_KEYRING_INVALID"],
    ["no next key", () => initialKeyring(fresh(), fresh(), T0).slice(0, 1), "ERR_KEYRING_INVALID"],
  ])("refuses to rotate a keyring with %s", (_name, make, code) => {
    expect(() => rotate(make(), fresh(), T0 + timing.rotationIntervalMs, timing)).toThrow(expect.objectContaining({ code }) as KeyringError);
  });
});
