/**
 * The one place an issuer failure becomes a gRPC status. The caller gets the fixed public text
 * of an IssuerError; the log gets its detail. Anything unexpected is INTERNAL with fixed text.
 */
import { Metadata, status, type ServerErrorResponse } from "@grpc/grpc-js";
import type { Logger } from "pino";
import { ISSUER_ERROR_STATUS, IssuerError } from "../issuer-error.js";

export function toServiceError(error: unknown, log: Logger, method: string): Partial<ServerErrorResponse> {
  if (error instanceof IssuerError) {
    const level = error.code === "ERR_INTERNAL" || error.code === "ERR_UNAVAILABLE" ? "error" : "warn";
    log[level]({ method, code: error.code, ...error.logFields }, "request refused");
    return withCode(ISSUER_ERROR_STATUS[error.code], error.message, error.code);
  }
  log.error({ method, error: error instanceof Error ? error.name : typeof error }, "unexpected failure");
  return withCode(status.INTERNAL, "internal error", "ERR_INTERNAL");
}

function withCode(code: status, details: string, reason: string): Partial<ServerErrorResponse> {
  const metadata = new Metadata();
  metadata.set("trustmesh-error", reason);
  return { code, details, metadata };
}
