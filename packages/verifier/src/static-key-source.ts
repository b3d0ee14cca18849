import { buildKeyMap } from "./lib/key-set.js";
import { defaultLogger } from "./lib/default-logger.js";
import type { JsonWebKeySet, KeySource, TrustedKey, VerifierLogger } from "./types.js";

/** A fixed key set: for tests, and for services that are handed their issuer's keys. */
export function createStaticKeySource(jwks: JsonWebKeySet, options: { logger?: VerifierLogger } = {}): KeySource {
  const keys = buildKeyMap(jwks, options.logger ?? defaultLogger);
  return {
    loaded: true,
    current: (kid: string): TrustedKey | undefined => keys.get(kid),
    resolve: (kid: string): Promise<TrustedKey | undefined> => Promise.resolve(keys.get(kid)),
    ready: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}
