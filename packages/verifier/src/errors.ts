/**
 * The closed set of reasons a token is refused. Codes are stable: callers switch on them,
 * the gRPC layer maps them to a status, and a code is never reused for another meaning.
 */
export type VerifyErrorCode =
  /** Not a string, not three canonical base64url segments, or a segment that is not the JSON it must be. */
  | "ERR_TOKEN_MALFORMED"
  /** Over the size limit; refused before any parsing. */
  | "ERR_TOKEN_TOO_LARGE"
  /** A protected header that breaks the profile: `typ`, `kid` missing or wrong, `crit` present. */
  | "ERR_HEADER_INVALID"
  /** `alg` outside the allow-list, or not the algorithm of the key that `kid` selects. */
  | "ERR_ALG_NOT_ALLOWED"
  /** No trusted key has this `kid`, even after a refetch. */
  | "ERR_KEY_NOT_FOUND"
  /** The signature does not verify. */
  | "ERR_SIGNATURE_INVALID"
  /** A required claim is missing or of the wrong type or shape. `claim` names it. */
  | "ERR_CLAIM_INVALID"
  /** `iss` is not exactly the configured issuer. */
  | "ERR_ISSUER_MISMATCH"
  /** `aud` is not exactly the configured audience (one audience only). */
  | "ERR_AUDIENCE_MISMATCH"
  /** `exp` is past, beyond the clock tolerance. */
  | "ERR_TOKEN_EXPIRED"
  /** `nbf` or `iat` is in the future, beyond the clock tolerance. */
  | "ERR_TOKEN_NOT_YET_VALID"
  /** `exp - iat` is longer than the maximum token lifetime. */
  | "ERR_TOKEN_LIFETIME_EXCEEDED"
  /** The revocation check names this token, its subject or its signing key. `reason` says which. */
  | "ERR_TOKEN_REVOKED"
  /** No key set has been loaded yet, so nothing can be verified. */
  | "ERR_KEYS_UNAVAILABLE"
  /** The revocation state is too stale to trust, or the check failed: fail closed. */
  | "ERR_REVOCATION_UNAVAILABLE";

export const VERIFY_ERROR_CODES: readonly VerifyErrorCode[] = Object.freeze([
  "ERR_TOKEN_MALFORMED",
  "ERR_TOKEN_TOO_LARGE",
  "ERR_HEADER_INVALID",
  "ERR_ALG_NOT_ALLOWED",
  "ERR_KEY_NOT_FOUND",
  "ERR_SIGNATURE_INVALID",
  "ERR_CLAIM_INVALID",
  "ERR_ISSUER_MISMATCH",
  "ERR_AUDIENCE_MISMATCH",
  "ERR_TOKEN_EXPIRED",
  "ERR_TOKEN_NOT_YET_VALID",
  "ERR_TOKEN_LIFETIME_EXCEEDED",
  "ERR_TOKEN_REVOKED",
  "ERR_KEYS_UNAVAILABLE",
  "ERR_REVOCATION_UNAVAILABLE",
]);

export type RevocationReason = "jti" | "subject" | "kid";

export interface VerifyErrorDetail {
  /** The claim or header parameter at fault, for ERR_CLAIM_INVALID and ERR_HEADER_INVALID. */
  readonly claim?: string;
  /** What was revoked, for ERR_TOKEN_REVOKED. */
  readonly reason?: RevocationReason;
  readonly cause?: unknown;
}

/**
 * The only error `verify` ever rejects with. Its message is fixed text chosen here and never
 * contains token text, claim values or key material, so it is safe to log.
 */
export class VerifyError extends Error {
  override readonly name = "VerifyError";
  readonly code: VerifyErrorCode;
  readonly claim: string | undefined;
  readonly reason: RevocationReason | undefined;

  constructor(code: VerifyErrorCode, message: string, detail: VerifyErrorDetail = {}) {
    super(message, detail.cause === undefined ? undefined : { cause: detail.cause });
    this.code = code;
    this.claim = detail.claim;
    this.reason = detail.reason;
  }
}
