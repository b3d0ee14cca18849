/**
 * The closed set of reasons a store operation fails. Codes are stable: the issuer switches on
 * them to pick a gRPC status, and a code is never reused for another meaning.
 */
export type StoreErrorCode =
  /** The backend did not answer in time or refused the connection. Maps to UNAVAILABLE. A write
   *  that failed this way may or may not have been applied. */
  | "ERR_STORE_UNAVAILABLE"
  /** The store was closed; nothing more can be done with it. */
  | "ERR_STORE_CLOSED"
  /** `createMemoryStore` / `createRedisStore` got an option it cannot use; `field` names it. */
  | "ERR_STORE_OPTIONS"
  /** A stored value does not decode into what this version writes: a foreign writer or version skew. */
  | "ERR_STORE_CORRUPT"
  /** An argument breaks the data model (id syntax, private key material, lifetimes…); `field` names it. */
  | "ERR_INVALID_INPUT"
  /** `registerService` for an id that is already registered. */
  | "ERR_SERVICE_EXISTS"
  /** No service identity has this id. */
  | "ERR_SERVICE_NOT_FOUND"
  /** `updateService` named a revision that is no longer current: re-read and retry. */
  | "ERR_STALE_REVISION"
  /** Saving a refresh token into, or recording an access token for, a revoked family. */
  | "ERR_FAMILY_REVOKED"
  /** A refresh-token hash that is already stored (live or spent): reusing one would revive it. */
  | "ERR_REFRESH_TOKEN_EXISTS";

export const STORE_ERROR_CODES: readonly StoreErrorCode[] = Object.freeze([
  "ERR_STORE_UNAVAILABLE",
  "ERR_STORE_CLOSED",
  "ERR_STORE_OPTIONS",
  "ERR_STORE_CORRUPT",
  "ERR_INVALID_INPUT",
  "ERR_SERVICE_EXISTS",
  "ERR_SERVICE_NOT_FOUND",
  "ERR_STALE_REVISION",
  "ERR_FAMILY_REVOKED",
  "ERR_REFRESH_TOKEN_EXISTS",
]);

export interface StoreErrorDetail {
  /** The argument or option at fault, for ERR_INVALID_INPUT and ERR_STORE_OPTIONS. */
  readonly field?: string;
  readonly cause?: unknown;
}

/**
 * The only error a store operation rejects with. Messages are fixed text plus ids and field
 * names: never a token, a token hash's preimage, or key material, so they are safe to log.
 */
export class StoreError extends Error {
  override readonly name = "StoreError";
  readonly code: StoreErrorCode;
  readonly field: string | undefined;

  constructor(code: StoreErrorCode, message: string, detail: StoreErrorDetail = {}) {
    super(message, detail.cause === undefined ? undefined : { cause: detail.cause });
    this.code = code;
    this.field = detail.field;
  }
}

export function invalidInput(field: string, message: string): StoreError {
  return new StoreError("ERR_INVALID_INPUT", `${field}: ${message}`, { field });
}
