/**
 * Errors thrown while a server is being wired, never on a call: calls end with a status from
 * AUTH_FAILURE_STATUS instead. Codes are stable and never reused for another meaning.
 */
export type PolicyErrorCode =
  /** A policy that cannot be enforced as written: an empty list, a bad method path, public plus rules. */
  | "ERR_POLICY_INVALID"
  /** One or more methods of a service have no policy, so every call to them would be denied. */
  | "ERR_POLICY_MISSING";

export class PolicyError extends Error {
  override readonly name = "PolicyError";
  readonly code: PolicyErrorCode;
  /** The method paths at fault, when the error is about particular methods. */
  readonly methods: readonly string[];

  constructor(code: PolicyErrorCode, message: string, methods: readonly string[] = []) {
    super(message);
    this.code = code;
    this.methods = Object.freeze([...methods]);
  }
}

export type InterceptorOptionsErrorCode = "ERR_INTERCEPTOR_OPTIONS";

/** Thrown by `createAuthInterceptor` for options it cannot use; says which option. */
export class InterceptorOptionsError extends Error {
  override readonly name = "InterceptorOptionsError";
  readonly code: InterceptorOptionsErrorCode = "ERR_INTERCEPTOR_OPTIONS";
  readonly option: string;

  constructor(option: string, message: string) {
    super(`${option}: ${message}`);
    this.option = option;
  }
}

export type CallerMissingErrorCode = "ERR_CALLER_MISSING";

/**
 * Thrown by `requireCaller` in a handler that has no verified caller: the method is public, or
 * the call did not pass through the auth interceptor. A wiring fault of the server, not the client.
 */
export class CallerMissingError extends Error {
  override readonly name = "CallerMissingError";
  readonly code: CallerMissingErrorCode = "ERR_CALLER_MISSING";

  constructor() {
    super("no verified caller on this call");
  }
}
