import { VerifyError } from "./errors.js";
import { VerificationEngine, type CacheStats } from "./lib/engine.js";
import { defaultLogger } from "./lib/default-logger.js";
import { resolveOptions, VerifierOptionsError, type VerifierOptions } from "./options.js";
import { createStaticKeySource } from "./static-key-source.js";
import type { KeySource, ServiceClaims } from "./types.js";

export interface Verifier {
  /** Resolves with the verified claims, or rejects with a `VerifyError` and nothing else. */
  verify(token: string): Promise<ServiceClaims>;
  readonly keySource: KeySource;
  cacheStats(): CacheStats;
}

/** Builds a verifier for one issuer and one audience. Options are validated here, once. */
export function createVerifier(options: VerifierOptions): Verifier {
  const resolved = resolveOptions(options);
  if ((options.jwks === undefined) === (options.keySource === undefined)) {
    throw new VerifierOptionsError("jwks", "give exactly one of jwks and keySource");
  }
  const logger = options.logger ?? defaultLogger;
  const keySource = options.keySource ?? createStaticKeySource(options.jwks as NonNullable<typeof options.jwks>, { logger });
  const engine = new VerificationEngine(resolved, keySource);
  return {
    keySource,
    cacheStats: () => engine.cacheStats(),
    async verify(token: string): Promise<ServiceClaims> {
      try {
        return await engine.verify(token);
      } catch (error) {
        if (error instanceof VerifyError) throw error;
        // A fault of ours, not of the token: still only a VerifyError leaves, with no input in it.
        logger.warn({ error: error instanceof Error ? error.name : typeof error }, "unexpected fault during verification");
        throw new VerifyError("ERR_TOKEN_MALFORMED", "token could not be processed");
      }
    },
  };
}
