/**
 * @trustmesh/grpc: the grpc-js server interceptor every trustmesh service adds. It verifies the
 * caller's token with @trustmesh/verifier, enforces a per-method policy, maps every refusal to
 * one gRPC status, and hands handlers the verified caller.
 */
export { createAuthInterceptor, type AuthInterceptorOptions, type InterceptorLogger } from "./create-auth-interceptor.js";
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
