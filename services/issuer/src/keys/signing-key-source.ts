import type { KeySource, TrustedKey } from "@trustmesh/verifier";
import { buildKeyMap, type KeyMap } from "@trustmesh/verifier/internal";
import type { SigningKeys } from "./signing-keys.js";

/**
 * The issuer verifies its own admin tokens against the keys it publishes, in process: the same
 * validation a remote verifier applies to the JWKS, without the HTTP round trip.
 */
export function signingKeySource(signingKeys: SigningKeys, warn: (fields: Readonly<Record<string, unknown>>, message: string) => void): KeySource {
  let built: { jwks: unknown; keys: KeyMap } | undefined;
  const keys = (): KeyMap => {
    const jwks = signingKeys.jwks();
    if (built?.jwks !== jwks) built = { jwks, keys: buildKeyMap(jwks, { warn }, built?.keys) };
    return built.keys;
  };
  return {
    loaded: true,
    current: (kid: string): TrustedKey | undefined => keys().get(kid),
    resolve: (kid: string): Promise<TrustedKey | undefined> => Promise.resolve(keys().get(kid)),
    ready: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}
