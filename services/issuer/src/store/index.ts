/**
 * The issuer's store: service identities, single-use assertion jtis, refresh-token families and
 * the signing keyring, behind `IssuerStore`. `createMemoryStore` is the embedded default (state
 * is lost on restart: say so at start); `createRedisStore` is for production and for more than
 * one replica. Every failure is a `StoreError` with a stable `code`.
 */
export type {
  AccessTokenRef,
  AudienceScopes,
  IssuerStore,
  Keyring,
  NewServiceIdentity,
  PublicJwk,
  RefreshTokenRecord,
  RotateOutcome,
  RotateRefreshTokenInput,
  RotateRefreshTokenResult,
  ServiceIdentity,
  ServiceIdentityChanges,
  ServiceStatus,
  StoredSigningKey,
} from "./types.js";
export { StoreError, STORE_ERROR_CODES, type StoreErrorCode } from "./errors.js";
export { MAX_REFRESH_TOKEN_LIFETIME_SEC, RETENTION_SLACK_SEC } from "./limits.js";
export {
  hashRefreshToken,
  newRefreshToken,
  parseRefreshToken,
  REFRESH_TOKEN_PREFIX,
  type NewRefreshToken,
  type ParsedRefreshToken,
} from "./refresh-token.js";
export { createMemoryStore, type MemoryIssuerStore, type MemoryStoreOptions } from "./memory-store.js";
export { createRedisStore, type RedisIssuerStore, type RedisStoreOptions } from "./redis-store.js";
export {
  DEFAULT_KEY_PREFIX,
  DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
  DEFAULT_REDIS_CONNECT_TIMEOUT_MS,
  type StoreLogger,
} from "./redis-connection.js";
export { isJti, isServiceId } from "./validate.js";
