import { performance } from "node:perf_hooks";
import {
  ResponderBuilder,
  ServerInterceptingCall,
  ServerListenerBuilder,
  type Metadata,
  type ServerInterceptor,
} from "@grpc/grpc-js";
import {
  VERIFY_ERROR_CODES,
  VerifyError,
  type RevocationFeed,
  type ServiceClaims,
  type Verifier,
  type VerifyErrorCode,
} from "@trustmesh/verifier";
import { AUTH_FAILURE_STATUS, type AuthFailureCode } from "./auth-failure-status.js";
import { InterceptorOptionsError } from "./errors.js";
import type { Caller } from "./get-caller.js";
import { isMalformedBearer, readBearerToken } from "./lib/bearer-token.js";
import { bindCaller } from "./lib/callers.js";
import { checkPolicy } from "./lib/check-policy.js";
import { createInterceptorMetrics, type InterceptorMetrics, type MetricsRegistry } from "./lib/interceptor-metrics.js";
import { OpenStreams, type OpenStream } from "./lib/open-streams.js";
import { toPolicyLookup } from "./lib/policy-lookup.js";
import type { PolicyMap } from "./policy.js";

/** The logging the interceptor does: only faults of its own, never token text or claims. */
export interface InterceptorLogger {
  error(fields: Readonly<Record<string, unknown>>, message: string): void;
}

export interface AuthInterceptorOptions {
  /**
   * Usually `createVerifier(...)`; anything that rejects with `VerifyError` alone will do. Its
   * `cacheStats`, when it has one, feeds the cache metrics.
   */
  readonly verifier: Pick<Verifier, "verify"> & Partial<Pick<Verifier, "cacheStats">>;
  /** Every method the server serves needs an entry; a method without one is denied. */
  readonly policies: PolicyMap;
  readonly logger?: InterceptorLogger;
  /**
   * The revocation feed the verifier checks (the same object). Open streams are re-checked against
   * it on each of its changes; without it they are ended only when their tokens expire.
   */
  readonly revocation?: RevocationFeed;
  /** Registers the interceptor's metrics in `registry`; needs the prom-client package. */
  readonly metrics?: { readonly registry: MetricsRegistry };
  /** Epoch milliseconds, for stream expiry; give the verifier the same clock. */
  readonly now?: () => number;
}

/** A grpc-js server interceptor that also watches the streams it admitted. */
export interface AuthInterceptor extends ServerInterceptor {
  /** Streaming calls admitted and not yet ended. */
  readonly openStreams: number;
  /**
   * Stops watching open streams (unsubscribes from the revocation feed, stops the expiry timer).
   * For after the server has shut down: a stream still open is no longer ended.
   */
  close(): void;
}

type Decision =
  | { readonly ok: true; readonly metadata: Metadata; readonly claims: ServiceClaims | undefined }
  | { readonly ok: false; readonly code: AuthFailureCode };

/**
 * A grpc-js server interceptor that verifies the caller's token and the method's policy before
 * the handler sees anything. grpc-js holds back the call's messages until metadata is passed on,
 * so a refused call never reaches its handler, whatever the call kind. A streaming call stays
 * watched while open, and is ended when its token expires or is revoked.
 */
export function createAuthInterceptor(options: AuthInterceptorOptions): AuthInterceptor {
  validateOptions(options);
  const { verifier } = options;
  const logger = options.logger ?? defaultLogger;
  const now = options.now ?? Date.now;
  const policyFor = toPolicyLookup(options.policies);
  const streams = new OpenStreams({ now, revocation: options.revocation });
  const metrics: InterceptorMetrics | undefined =
    options.metrics === undefined
      ? undefined
      : createInterceptorMetrics(options.metrics.registry, {
          openStreams: () => streams.size,
          cacheStats: typeof verifier.cacheStats === "function" ? verifier.cacheStats.bind(verifier) : undefined,
        });

  async function decide(path: string, received: Metadata, streaming: boolean): Promise<Decision> {
    const policy = policyFor(path);
    // The handler never sees the token: it has the verified caller instead.
    const forwarded = received.clone();
    forwarded.remove("authorization");
    if (policy?.public === true) return { ok: true, metadata: forwarded, claims: undefined };

    const bearer = readBearerToken(received);
    if (!bearer.ok) return bearer;
    let claims: ServiceClaims;
    try {
      claims = await verifier.verify(bearer.token);
    } catch (error) {
      const code = verifyErrorCodeOf(error);
      if (code === undefined) throw error;
      return { ok: false, code: isMalformedBearer(bearer.token) ? "ERR_AUTHORIZATION_MALFORMED" : code };
    }
    if (streaming) {
      if (!Number.isFinite(claims.exp)) throw new TypeError("verified claims without a numeric exp");
      // Within the verifier's clock tolerance, but a stream would be ended as soon as it opened.
      if (now() >= claims.exp * 1000) return { ok: false, code: "ERR_TOKEN_EXPIRED" };
    }
    if (policy === undefined) return { ok: false, code: "ERR_POLICY_MISSING" };
    const denied = checkPolicy(policy, claims);
    if (denied !== undefined) return { ok: false, code: denied };
    bindCaller(forwarded, callerFrom(claims));
    return { ok: true, metadata: forwarded, claims };
  }

  /** Never rejects: a fault becomes ERR_INTERNAL and a log line. */
  async function authorize(path: string, received: Metadata, streaming: boolean): Promise<Decision> {
    const started = performance.now();
    let decision: Decision;
    try {
      decision = await decide(path, received, streaming);
    } catch (error) {
      logger.error({ method: path, error: error instanceof Error ? error.name : typeof error }, "unexpected fault while authorizing a call");
      decision = { ok: false, code: "ERR_INTERNAL" };
    }
    if (metrics !== undefined && (!decision.ok || decision.claims !== undefined)) {
      metrics.decided(decision.ok ? "ok" : decision.code, (performance.now() - started) / 1000);
    }
    return decision;
  }

  const intercept: ServerInterceptor = (method, call) => {
    const streaming = method.requestStream || method.responseStream;
    let over = false;
    let tracked: OpenStream | undefined;
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((received, next) => {
        const changesSeen = streams.changes;
        void authorize(method.path, received, streaming).then((decision) => {
          if (!decision.ok) {
            refuse(intercepting, decision.code);
            return;
          }
          if (streaming && decision.claims !== undefined && !over) {
            tracked = streams.open(
              decision.claims,
              (reason) => {
                metrics?.streamEnded(reason);
                // This runs from a timer or a feed change: a throw here would take the server down.
                try {
                  refuse(intercepting, reason);
                } catch (error) {
                  logger.error({ method: method.path, error: error instanceof Error ? error.name : typeof error }, "unexpected fault while ending a stream");
                }
              },
              changesSeen,
            );
          }
          next(decision.metadata);
        });
      })
      // grpc-js calls onCancel once on every call's end, not only on a cancel: after any status
      // has gone out (ours, the handler's) and when the client resets or the connection drops.
      .withOnCancel(() => {
        over = true;
        tracked?.forget();
      })
      .build();
    const responder = new ResponderBuilder()
      .withStart((next) => {
        next(listener);
      })
      .build();
    // Statuses go out through this call, so they pass the same path as the handler's.
    const intercepting = new ServerInterceptingCall(call, responder);
    return intercepting;
  };

  return Object.defineProperties(intercept as AuthInterceptor, {
    openStreams: { get: () => streams.size, enumerable: true },
    close: {
      value: () => {
        streams.close();
      },
      enumerable: true,
    },
  });
}

function refuse(call: ServerInterceptingCall, code: AuthFailureCode): void {
  call.sendStatus({ code: AUTH_FAILURE_STATUS[code], details: code, metadata: null });
}

function validateOptions(options: AuthInterceptorOptions): void {
  const given = options as Partial<AuthInterceptorOptions> | null;
  if (typeof given?.verifier?.verify !== "function") {
    throw new InterceptorOptionsError("verifier", "must have a verify(token) method");
  }
  if (options.logger !== undefined && typeof options.logger.error !== "function") {
    throw new InterceptorOptionsError("logger", "must have an error(fields, message) method");
  }
  if (options.revocation !== undefined && (typeof options.revocation.check !== "function" || typeof options.revocation.onChange !== "function")) {
    throw new InterceptorOptionsError("revocation", "must be a RevocationFeed, with check(token) and onChange(listener)");
  }
  if (options.metrics !== undefined && typeof options.metrics?.registry?.getSingleMetric !== "function") {
    throw new InterceptorOptionsError("metrics", "must be { registry } with a prom-client Registry");
  }
  if (options.now !== undefined && typeof options.now !== "function") {
    throw new InterceptorOptionsError("now", "must be a function returning epoch milliseconds");
  }
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
