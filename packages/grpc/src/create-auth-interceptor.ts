import {
  ResponderBuilder,
  ServerInterceptingCall,
  ServerListenerBuilder,
  type Metadata,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
} from "@grpc/grpc-js";
import { VERIFY_ERROR_CODES, VerifyError, type ServiceClaims, type Verifier, type VerifyErrorCode } from "@trustmesh/verifier";
import { AUTH_FAILURE_STATUS, type AuthFailureCode } from "./auth-failure-status.js";
import { InterceptorOptionsError } from "./errors.js";
import type { Caller } from "./get-caller.js";
import { readBearerToken } from "./lib/bearer-token.js";
import { bindCaller } from "./lib/callers.js";
import { checkPolicy } from "./lib/check-policy.js";
import { toPolicyLookup } from "./lib/policy-lookup.js";
import type { PolicyMap } from "./policy.js";

/** The logging the interceptor does: only faults of its own, never token text or claims. */
export interface InterceptorLogger {
  error(fields: Readonly<Record<string, unknown>>, message: string): void;
}

export interface AuthInterceptorOptions {
  /** Usually `createVerifier(...)`; anything that rejects with `VerifyError` alone will do. */
  readonly verifier: Pick<Verifier, "verify">;
  /** Every method the server serves needs an entry; a method without one is denied. */
  readonly policies: PolicyMap;
  readonly logger?: InterceptorLogger;
}

type Decision = { readonly ok: true; readonly metadata: Metadata } | { readonly ok: false; readonly code: AuthFailureCode };

/**
 * A grpc-js server interceptor that verifies the caller's token and the method's policy before
 * the handler sees anything. grpc-js holds back the call's messages until metadata is passed on,
 * so a refused call never reaches its handler, whatever the call kind.
 */
export function createAuthInterceptor(options: AuthInterceptorOptions): ServerInterceptor {
  if (typeof (options as Partial<AuthInterceptorOptions> | null)?.verifier?.verify !== "function") {
    throw new InterceptorOptionsError("verifier", "must have a verify(token) method");
  }
  if (options.logger !== undefined && typeof options.logger.error !== "function") {
    throw new InterceptorOptionsError("logger", "must have an error(fields, message) method");
  }
  const { verifier } = options;
  const logger = options.logger ?? defaultLogger;
  const policyFor = toPolicyLookup(options.policies);

  async function decide(path: string, received: Metadata): Promise<Decision> {
    const policy = policyFor(path);
    // The handler never sees the token: it has the verified caller instead.
    const forwarded = received.clone();
    forwarded.remove("authorization");
    if (policy?.public === true) return { ok: true, metadata: forwarded };

    const bearer = readBearerToken(received);
    if (!bearer.ok) return bearer;
    let claims: ServiceClaims;
    try {
      claims = await verifier.verify(bearer.token);
    } catch (error) {
      const code = verifyErrorCodeOf(error);
      if (code === undefined) throw error;
      return { ok: false, code };
    }
    if (policy === undefined) return { ok: false, code: "ERR_POLICY_MISSING" };
    const denied = checkPolicy(policy, claims);
    if (denied !== undefined) return { ok: false, code: denied };
    bindCaller(forwarded, callerFrom(claims));
    return { ok: true, metadata: forwarded };
  }

  async function admit(path: string, received: Metadata, next: (metadata: Metadata) => void, call: ServerInterceptingCallInterface): Promise<void> {
    let decision: Decision;
    try {
      decision = await decide(path, received);
    } catch (error) {
      logger.error({ method: path, error: error instanceof Error ? error.name : typeof error }, "unexpected fault while authorizing a call");
      decision = { ok: false, code: "ERR_INTERNAL" };
    }
    if (decision.ok) next(decision.metadata);
    else call.sendStatus({ code: AUTH_FAILURE_STATUS[decision.code], details: decision.code, metadata: null });
  }

  return (method, call) => {
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((received, next) => {
        void admit(method.path, received, next, call);
      })
      .build();
    const responder = new ResponderBuilder()
      .withStart((next) => {
        next(listener);
      })
      .build();
    return new ServerInterceptingCall(call, responder);
  };
}

const defaultLogger: InterceptorLogger = {
  error(fields, message) {
    process.emitWarning(`${message} ${JSON.stringify(fields)}`, { code: "TRUSTMESH_GRPC" });
  },
};

function verifyErrorCodeOf(error: unknown): VerifyErrorCode | undefined {
  // A code outside the closed set is not a verdict we know how to map: treat it as a fault.
  return error instanceof VerifyError && VERIFY_ERROR_CODES.includes(error.code) ? error.code : undefined;
}

function callerFrom(claims: ServiceClaims): Caller {
  return Object.freeze({
    serviceId: claims.sub,
    tenantId: claims.tenantId,
    scopes: Object.freeze([...claims.scopes]),
    jti: claims.jti,
    exp: claims.exp,
  });
}
