import type { ServiceClaims } from "@trustmesh/verifier";
import type { AuthFailureCode } from "../auth-failure-status.js";
import type { MethodPolicy } from "../policy.js";

/** Why verified `claims` do not satisfy `policy`, or undefined when they do. */
export function checkPolicy(policy: MethodPolicy, claims: ServiceClaims): AuthFailureCode | undefined {
  if (policy.services !== undefined && !policy.services.includes(claims.sub)) return "ERR_SERVICE_NOT_ALLOWED";
  if (policy.tenants !== undefined && (claims.tenantId === undefined || !policy.tenants.includes(claims.tenantId))) {
    return "ERR_TENANT_NOT_ALLOWED";
  }
  if (!policy.scopes.every((scope) => claims.scopes.includes(scope))) return "ERR_SCOPE_MISSING";
  return undefined;
}
