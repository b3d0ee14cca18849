/**
 * Turns a JWKS into the map the verifier trusts. Unusable keys are dropped and logged by `kid`;
 * a `kid` that appears twice is dropped entirely, since either key could be the one meant.
 */
import type { JsonWebKeySet, TrustedKey, VerifierLogger } from "../types.js";
import { importJwk } from "./import-jwk.js";

/** More keys than any sane rotation needs; a bound on what a key set can make us import. */
export const MAX_KEYS_PER_SET = 64;

export type KeyMap = ReadonlyMap<string, TrustedKey>;

/**
 * `previous` lets an unchanged key keep its identity across refreshes, so tokens cached under it
 * stay cached.
 */
export function buildKeyMap(jwks: unknown, logger: VerifierLogger, previous?: KeyMap): KeyMap {
  if (!isKeySet(jwks)) throw new TypeError("not a JSON Web Key Set: expected an object with a keys array");
  const keys = new Map<string, TrustedKey>();
  const ambiguous = new Set<string>();
  jwks.keys.forEach((jwk, index) => {
    if (index >= MAX_KEYS_PER_SET) {
      if (index === MAX_KEYS_PER_SET) logger.warn({ limit: MAX_KEYS_PER_SET }, "JWKS has too many keys; the rest are ignored");
      return;
    }
    if (typeof jwk !== "object" || jwk === null) {
      logger.warn({ index }, "JWKS entry is not an object; dropped");
      return;
    }
    const result = importJwk(jwk);
    if ("rejected" in result) {
      logger.warn({ kid: safeKid(jwk["kid"]), reason: result.rejected }, "JWKS key dropped");
      return;
    }
    const { kid } = result.key;
    if (keys.has(kid) || ambiguous.has(kid)) {
      ambiguous.add(kid);
      keys.delete(kid);
      logger.warn({ kid }, "JWKS has this kid more than once; every key with it is dropped");
      return;
    }
    const kept = previous?.get(kid);
    keys.set(kid, kept?.fingerprint === result.key.fingerprint ? kept : result.key);
  });
  return keys;
}

function isKeySet(value: unknown): value is JsonWebKeySet {
  return typeof value === "object" && value !== null && Array.isArray((value as { keys?: unknown }).keys);
}

/** A kid is safe to log only as a bounded string; anything else is described, not echoed. */
function safeKid(kid: unknown): string {
  return typeof kid === "string" ? kid.slice(0, 128) : `<${typeof kid}>`;
}
