/**
 * The one error of the client side: the token source, the token interceptor and the call
 * credentials. Codes are stable and never reused for another meaning. No message or field ever
 * carries a token, a refresh token, an assertion or key material.
 */
import type { status } from "@grpc/grpc-js";

export type TokenSourceErrorCode =
  /** The issuer could not be reached (UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED) and no usable token is cached. Retried with backoff. */
  | "ERR_ISSUER_UNREACHABLE"
  /** The issuer refused this service the audience or scopes (UNAUTHENTICATED, PERMISSION_DENIED, or fewer scopes granted than asked). Not retried before `maxRetryMs`. */
  | "ERR_TOKEN_DENIED"
  /** The audience or scopes asked for are not well formed (refused before any call, or INVALID_ARGUMENT from the issuer). */
  | "ERR_TOKEN_REQUEST_INVALID"
  /** The issuer answered with another error, or with a response that cannot be used. Retried with backoff. */
  | "ERR_ISSUER_FAILED"
  /** `close()` was called: the source hands out nothing more. */
  | "ERR_TOKEN_SOURCE_CLOSED"
  /** An option of `createTokenSource`, `createTokenInterceptor` or `tokenCallCredentials` cannot be used; `option` names it. */
  | "ERR_TOKEN_SOURCE_OPTIONS";

export interface TokenSourceErrorDetail {
  /** The audience the token was for, when the error is about one. */
  readonly audience?: string;
  readonly scopes?: readonly string[];
  /** The gRPC status the issuer answered with, when it answered. */
  readonly issuerStatus?: status;
  /** The option at fault, for ERR_TOKEN_SOURCE_OPTIONS. */
  readonly option?: string;
  readonly cause?: unknown;
}

export class TokenSourceError extends Error {
  override readonly name = "TokenSourceError";
  readonly code: TokenSourceErrorCode;
  readonly audience: string | undefined;
  readonly scopes: readonly string[] | undefined;
  readonly issuerStatus: status | undefined;
  readonly option: string | undefined;

  constructor(code: TokenSourceErrorCode, message: string, detail: TokenSourceErrorDetail = {}) {
    super(message, detail.cause === undefined ? undefined : { cause: detail.cause });
    this.code = code;
    this.audience = detail.audience;
    this.scopes = detail.scopes === undefined ? undefined : Object.freeze([...detail.scopes]);
    this.issuerStatus = detail.issuerStatus;
    this.option = detail.option;
  }
}

export function optionsError(option: string, message: string): TokenSourceError {
  return new TokenSourceError("ERR_TOKEN_SOURCE_OPTIONS", `${option}: ${message}`, { option });
}
