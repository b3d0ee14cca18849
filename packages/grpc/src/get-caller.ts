import type { Metadata } from "@grpc/grpc-js";
import { CallerMissingError } from "./errors.js";
import { callerOf } from "./lib/callers.js";

/** The verified calling service, as the auth interceptor established it. */
export interface Caller {
  /** The calling service's id: the token's `sub`. */
  readonly serviceId: string;
  readonly tenantId: string | undefined;
  readonly scopes: readonly string[];
  /** The token's id, for audit and for naming it in a revocation. */
  readonly jti: string;
  /** The token's expiry, epoch seconds. */
  readonly exp: number;
}

/** What every grpc-js server call object has: unary, readable, writable and duplex alike. */
export interface ServerCallLike {
  readonly metadata: Metadata;
}

/**
 * The verified caller of `call`, or undefined for a public method or a call that did not pass
 * through the auth interceptor. Never read from metadata the client sent.
 */
export function getCaller(call: ServerCallLike): Caller | undefined {
  return typeof call === "object" && call !== null && typeof call.metadata === "object" ? callerOf(call.metadata) : undefined;
}

/** Like `getCaller`, for handlers of methods that are never public. Throws `CallerMissingError`. */
export function requireCaller(call: ServerCallLike): Caller {
  const caller = getCaller(call);
  if (caller === undefined) throw new CallerMissingError();
  return caller;
}
