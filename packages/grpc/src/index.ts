/**
 * @trustmesh/grpc: the grpc-js server interceptor every trustmesh service adds. It verifies the
 * caller's token with @trustmesh/verifier, enforces a per-method policy, maps every refusal to
 * one gRPC status, and hands handlers the verified caller.
 */
export { createAuthInterceptor, type AuthInterceptor, type AuthInterceptorOptions, type InterceptorLogger } from "./create-auth-interceptor.js";
export { AUTH_FAILURE_STATUS, type AuthFailureCode } from "./auth-failure-status.js";
export {
  allowServices,
  allowTenants,
  policy,
  publicMethod,
  requireScopes,
  type MethodPolicy,
  type PolicyMap,
} from "./policy.js";
export { HEALTH_AND_REFLECTION_POLICIES } from "./public-methods.js";
export { policiesFromProto } from "./policies-from-proto.js";
export { assertEveryMethodHasPolicy, type ServiceDefinitionLike } from "./assert-every-method-has-policy.js";
export { getCaller, requireCaller, type Caller, type ServerCallLike } from "./get-caller.js";
export {
  CallerMissingError,
  InterceptorOptionsError,
  PolicyError,
  type CallerMissingErrorCode,
  type InterceptorOptionsErrorCode,
  type PolicyErrorCode,
} from "./errors.js";
export {
  createTokenSource,
  DEFAULT_ISSUER_CALL_TIMEOUT_MS,
  DEFAULT_JITTER_RATIO,
  DEFAULT_MAX_RETRY_MS,
  DEFAULT_MIN_RETRY_MS,
  DEFAULT_REFRESH_AHEAD_RATIO,
  type ServicePrivateJwk,
  type TokenIssuerTarget,
  type TokenSource,
  type TokenSourceLogger,
  type TokenSourceOptions,
} from "./token-source.js";
export { createTokenInterceptor, type TokenRequest } from "./client-token-interceptor.js";
export { tokenCallCredentials } from "./token-call-credentials.js";
export { TOKEN_FAILURE_STATUS } from "./lib/client-token-status.js";
export { TokenSourceError, type TokenSourceErrorCode, type TokenSourceErrorDetail } from "./token-source-error.js";
export { bindRevocationHealth, DEFAULT_HEALTH_CHECK_INTERVAL_MS, type HealthSetter, type HealthStatus, type RevocationFeedState } from "./revocation-health.js";
