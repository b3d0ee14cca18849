import { status } from "@grpc/grpc-js";
import type { VerifyErrorCode } from "@trustmesh/verifier";

/** Why a call was refused. Sent as the status `details`, and nothing else is. */
export type AuthFailureCode =
  | VerifyErrorCode
  /** No `authorization` metadata. */
  | "ERR_TOKEN_MISSING"
  /** More than one `authorization` value: which one the client meant is not ours to guess. */
  | "ERR_AUTHORIZATION_DUPLICATE"
  /** An `authorization` scheme other than Bearer. */
  | "ERR_AUTHORIZATION_SCHEME"
  /** Not `Bearer <token>` with one space and a token of the RFC 6750 character set. */
  | "ERR_AUTHORIZATION_MALFORMED"
  /** The method has no policy, so it is denied to everyone. */
  | "ERR_POLICY_MISSING"
  /** The token lacks a scope the method requires. */
  | "ERR_SCOPE_MISSING"
  /** The calling service is not in the method's allow-list. */
  | "ERR_SERVICE_NOT_ALLOWED"
  /** The caller's tenant is not in the method's allow-list. */
  | "ERR_TENANT_NOT_ALLOWED"
  /** A fault of ours, logged on the server; the caller learns nothing more. */
  | "ERR_INTERNAL";

/**
 * The one mapping from refusal to gRPC status. Keyed by every code, so adding a `VerifyErrorCode`
 * without deciding its status does not compile.
 */
export const AUTH_FAILURE_STATUS: Readonly<Record<AuthFailureCode, status>> = Object.freeze({
  ERR_TOKEN_MALFORMED: status.UNAUTHENTICATED,
  ERR_TOKEN_TOO_LARGE: status.UNAUTHENTICATED,
  ERR_HEADER_INVALID: status.UNAUTHENTICATED,
  ERR_ALG_NOT_ALLOWED: status.UNAUTHENTICATED,
  ERR_KEY_NOT_FOUND: status.UNAUTHENTICATED,
  ERR_SIGNATURE_INVALID: status.UNAUTHENTICATED,
  ERR_CLAIM_INVALID: status.UNAUTHENTICATED,
  ERR_ISSUER_MISMATCH: status.UNAUTHENTICATED,
  ERR_AUDIENCE_MISMATCH: status.UNAUTHENTICATED,
  ERR_TOKEN_EXPIRED: status.UNAUTHENTICATED,
  ERR_TOKEN_NOT_YET_VALID: status.UNAUTHENTICATED,
  ERR_TOKEN_LIFETIME_EXCEEDED: status.UNAUTHENTICATED,
  ERR_TOKEN_REVOKED: status.UNAUTHENTICATED,
  // Our key set or revocation feed cannot vouch for anything right now: the token may be fine,
  // so the caller should retry (UNAVAILABLE is retryable), not fetch a new token.
  ERR_KEYS_UNAVAILABLE: status.UNAVAILABLE,
  ERR_REVOCATION_UNAVAILABLE: status.UNAVAILABLE,
  ERR_TOKEN_MISSING: status.UNAUTHENTICATED,
  ERR_AUTHORIZATION_DUPLICATE: status.UNAUTHENTICATED,
  ERR_AUTHORIZATION_SCHEME: status.UNAUTHENTICATED,
  ERR_AUTHORIZATION_MALFORMED: status.UNAUTHENTICATED,
  ERR_POLICY_MISSING: status.PERMISSION_DENIED,
  ERR_SCOPE_MISSING: status.PERMISSION_DENIED,
  ERR_SERVICE_NOT_ALLOWED: status.PERMISSION_DENIED,
  ERR_TENANT_NOT_ALLOWED: status.PERMISSION_DENIED,
  ERR_INTERNAL: status.INTERNAL,
});
