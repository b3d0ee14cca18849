/**
 * The status a call fails with when no token could be had for it: the client-side counterpart
 * of AUTH_FAILURE_STATUS. Details say why (the TokenSourceError message, which never carries a
 * token); anything that is not a TokenSourceError gets fixed text.
 */
import { status } from "@grpc/grpc-js";
import { TokenSourceError, type TokenSourceErrorCode } from "../token-source-error.js";

export const TOKEN_FAILURE_STATUS: Readonly<Record<TokenSourceErrorCode, status>> = Object.freeze({
  ERR_ISSUER_UNREACHABLE: status.UNAVAILABLE,
  ERR_ISSUER_FAILED: status.UNAVAILABLE,
  ERR_TOKEN_SOURCE_CLOSED: status.UNAVAILABLE,
  ERR_TOKEN_DENIED: status.UNAUTHENTICATED,
  ERR_TOKEN_REQUEST_INVALID: status.UNAUTHENTICATED,
  ERR_TOKEN_SOURCE_OPTIONS: status.UNAUTHENTICATED,
});

export function tokenFailureStatus(error: unknown): { code: status; details: string } {
  if (error instanceof TokenSourceError && Object.hasOwn(TOKEN_FAILURE_STATUS, error.code)) {
    return { code: TOKEN_FAILURE_STATUS[error.code], details: `${error.code}: ${error.message}` };
  }
  return { code: status.INTERNAL, details: "ERR_TOKEN_SOURCE: the token source failed unexpectedly" };
}
