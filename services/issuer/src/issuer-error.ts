/**
 * What the issuer tells a caller, as a closed set of codes, each with one gRPC status and fixed
 * public text. The detail for operators travels separately, in `logFields`, and never reaches
 * the wire; neither carries a token, an assertion or key material.
 */
import { status } from "@grpc/grpc-js";

export type IssuerErrorCode =
  | "ERR_UNAUTHENTICATED"
  | "ERR_PERMISSION_DENIED"
  | "ERR_INVALID_ARGUMENT"
  | "ERR_NOT_FOUND"
  | "ERR_ALREADY_EXISTS"
  | "ERR_FAILED_PRECONDITION"
  | "ERR_ABORTED"
  | "ERR_UNAVAILABLE"
  | "ERR_INTERNAL";

export const ISSUER_ERROR_STATUS: Readonly<Record<IssuerErrorCode, status>> = Object.freeze({
  ERR_UNAUTHENTICATED: status.UNAUTHENTICATED,
  ERR_PERMISSION_DENIED: status.PERMISSION_DENIED,
  ERR_INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  ERR_NOT_FOUND: status.NOT_FOUND,
  ERR_ALREADY_EXISTS: status.ALREADY_EXISTS,
  ERR_FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  ERR_ABORTED: status.ABORTED,
  ERR_UNAVAILABLE: status.UNAVAILABLE,
  ERR_INTERNAL: status.INTERNAL,
});

export class IssuerError extends Error {
  override readonly name = "IssuerError";
  readonly code: IssuerErrorCode;
  /** For the issuer's log only: which check failed, ids, store codes. */
  readonly logFields: Readonly<Record<string, unknown>>;

  constructor(code: IssuerErrorCode, publicMessage: string, logFields: Readonly<Record<string, unknown>> = {}) {
    super(publicMessage);
    this.code = code;
    this.logFields = logFields;
  }
}

/** The one answer to every failed client authentication: nothing says which part failed. */
export function unauthenticated(logFields: Readonly<Record<string, unknown>>): IssuerError {
  return new IssuerError("ERR_UNAUTHENTICATED", "client authentication failed", logFields);
}

export function unavailable(what: string, logFields: Readonly<Record<string, unknown>> = {}): IssuerError {
  return new IssuerError("ERR_UNAVAILABLE", `${what} is unavailable; retry with backoff`, logFields);
}
