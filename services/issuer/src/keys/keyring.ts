/**
 * The signing-key lifecycle as pure functions over the stored keyring, so every replica computes
 * the same answer from the same document and the timing rules can be tested with a plain clock.
 *
 *   next     published in the JWKS, signs nothing yet: verifiers learn it before they meet it
 *   active   published and signing; exactly one
 *   retired  published until every token it signed has expired, then dropped
 */

import type { StoredSigningKey } from "../store/types.js";

export type { StoredSigningKey };
export type KeyState = StoredSigningKey["state"];
export type SigningAlgorithm = "EdDSA" | "ES256";

export interface KeyringTiming {
  /** How long a next key is published before it may sign (longer than verifiers' JWKS refresh). */
  readonly prePublishMs: number;
  readonly rotationIntervalMs: number;
  /** Longest an access token can live, plus the verifiers' clock tolerance. */
  readonly tokenHorizonMs: number;
}

export type KeyringErrorCode = "ERR_KEYRING_INVALID" | "ERR_NEXT_KEY_NOT_READY" | "ERR_KEY_UNKNOWN";

export class KeyringError extends Error {
  override readonly name = "KeyringError";
  readonly code: KeyringErrorCode;

  constructor(code: KeyringErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export function activeKey(keys: readonly StoredSigningKey[]): StoredSigningKey {
  const active = keys.filter((key) => key.state === "active");
  if (active.length !== 1 || active[0] === undefined) {
    throw new KeyringError("ERR_KEYRING_INVALID", `keyring must have exactly one active key, has ${active.length}`);
  }
  return active[0];
}

export function nextKey(keys: readonly StoredSigningKey[]): StoredSigningKey | undefined {
  return keys.find((key) => key.state === "next");
}

/** What the JWKS shows at `nowMs`. */
export function publishedKeys(keys: readonly StoredSigningKey[], nowMs: number): StoredSigningKey[] {
  return keys.filter((key) => key.state !== "retired" || (key.publishUntilMs ?? 0) > nowMs);
}

export function isRotationDue(keys: readonly StoredSigningKey[], nowMs: number, timing: KeyringTiming): boolean {
  const active = activeKey(keys);
  return (active.activatesAtMs ?? active.createdAtMs) + timing.rotationIntervalMs <= nowMs;
}

/** A first keyring: one key that signs from now, and its successor already published. */
export function initialKeyring(first: NewKey, second: NewKey, nowMs: number): StoredSigningKey[] {
  return [
    { ...first, state: "active", createdAtMs: nowMs, activatesAtMs: nowMs },
    { ...second, state: "next", createdAtMs: nowMs },
  ];
}

export type NewKey = Pick<StoredSigningKey, "kid" | "alg" | "encryptedPrivateKey" | "publicJwk">;

/**
 * The next key becomes active, the active one retires, `fresh` becomes the next. Without
 * `immediate`, the next key must have been published for the pre-publication window; with it
 * (a compromised key), verifiers pick the new key up by refetching on its unknown kid.
 */
export function rotate(
  keys: readonly StoredSigningKey[],
  fresh: NewKey,
  nowMs: number,
  timing: KeyringTiming,
  options: { immediate?: boolean } = {},
): StoredSigningKey[] {
  const active = activeKey(keys);
  const next = nextKey(keys);
  if (next === undefined) throw new KeyringError("ERR_KEYRING_INVALID", "keyring has no next key to promote");
  const publishedForMs = nowMs - next.createdAtMs;
  if (options.immediate !== true && publishedForMs < timing.prePublishMs) {
    throw new KeyringError(
      "ERR_NEXT_KEY_NOT_READY",
      `next key ${next.kid} has been published for ${Math.floor(publishedForMs / 1000)} s of the ${Math.ceil(timing.prePublishMs / 1000)} s window`,
    );
  }
  const rotated = keys.map((key): StoredSigningKey => {
    if (key.kid === active.kid) return { ...key, state: "retired", retiredAtMs: nowMs, publishUntilMs: nowMs + timing.tokenHorizonMs };
    if (key.kid === next.kid) return { ...key, state: "active", activatesAtMs: nowMs };
    return key;
  });
  return [...dropExpired(rotated, nowMs), { ...fresh, state: "next", createdAtMs: nowMs }];
}

/** Retired keys past their publication are no longer needed by anyone. */
export function dropExpired(keys: readonly StoredSigningKey[], nowMs: number): StoredSigningKey[] {
  return keys.filter((key) => key.state !== "retired" || (key.publishUntilMs ?? 0) > nowMs);
}

/**
 * A leaked key: gone from the JWKS at once (`publishUntilMs` now), and if it was the active
 * key, the next key signs from now on and `fresh` becomes the next. A leaked next key is
 * simply replaced by `fresh`. Tokens it signed are refused through the revocation stream.
 */
export function revokeKey(keys: readonly StoredSigningKey[], kid: string, fresh: NewKey, nowMs: number): StoredSigningKey[] {
  const target = keys.find((key) => key.kid === kid);
  if (target === undefined) throw new KeyringError("ERR_KEY_UNKNOWN", `no signing key has kid ${kid.slice(0, 64)}`);
  const dropped = (key: StoredSigningKey): StoredSigningKey => ({ ...key, state: "retired", retiredAtMs: key.retiredAtMs ?? nowMs, publishUntilMs: nowMs });
  if (target.state === "active") {
    const next = nextKey(keys);
    if (next === undefined) throw new KeyringError("ERR_KEYRING_INVALID", "keyring has no next key to promote");
    const rotated = keys.map((key): StoredSigningKey => {
      if (key.kid === kid) return dropped(key);
      if (key.kid === next.kid) return { ...key, state: "active", activatesAtMs: nowMs };
      return key;
    });
    return [...dropExpired(rotated, nowMs), { ...fresh, state: "next", createdAtMs: nowMs }];
  }
  const without = dropExpired(keys.map((key) => (key.kid === kid ? dropped(key) : key)), nowMs);
  return target.state === "next" ? [...without, { ...fresh, state: "next", createdAtMs: nowMs }] : without;
}
