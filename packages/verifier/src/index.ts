/**
 * @trustmesh/verifier: decides whether a service access token is trusted, in one place. On jose
 * and node:crypto only (no gRPC, no NATS), so it serves an HTTP server or another runtime as well.
 */
export { createVerifier, type Verifier } from "./create-verifier.js";
export {
  VerifierOptionsError,
  DEFAULT_ALGORITHMS,
  DEFAULT_CACHE_MAX_ENTRIES,
  DEFAULT_CLOCK_TOLERANCE_SEC,
  DEFAULT_MAX_TOKEN_BYTES,
  DEFAULT_MAX_TOKEN_LIFETIME_SEC,
  MAX_TOKEN_LIFETIME_SEC,
  type VerifierOptions,
} from "./options.js";
export { VerifyError, VERIFY_ERROR_CODES, type VerifyErrorCode, type RevocationReason } from "./errors.js";
export { createStaticKeySource } from "./static-key-source.js";
export {
  createRemoteKeySource,
  DEFAULT_JWKS_REFRESH_INTERVAL_MS,
  DEFAULT_UNKNOWN_KID_COOLDOWN_MS,
  type RemoteKeySource,
  type RemoteKeySourceOptions,
} from "./remote-key-source.js";
export { InMemoryRevocationList } from "./in-memory-revocation.js";
export type { CacheStats } from "./lib/engine.js";
export type {
  Algorithm,
  JsonWebKey,
  JsonWebKeySet,
  KeySource,
  RevocationCheck,
  RevocationFeed,
  RevocationQuery,
  RevocationStatus,
  ServiceClaims,
  TrustedKey,
  VerifierLogger,
} from "./types.js";
