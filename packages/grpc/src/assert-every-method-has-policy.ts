import { PolicyError } from "./errors.js";
import type { PolicyMap } from "./policy.js";

/** Any grpc-js service definition: ts-proto's generated ones and proto-loader's alike. */
export type ServiceDefinitionLike = Readonly<Record<string, { readonly path: string }>>;

/**
 * Throws `PolicyError` (`ERR_POLICY_MISSING`, naming every such method) when a method of
 * `service` has no policy. For a test or a start-up check: the interceptor would deny those
 * methods anyway, but a missing policy is a bug better found before a caller does.
 */
export function assertEveryMethodHasPolicy(service: ServiceDefinitionLike, policies: PolicyMap): void {
  const missing = Object.values(service)
    .map((method) => method.path)
    .filter((path) => !Object.hasOwn(policies, path));
  if (missing.length > 0) {
    throw new PolicyError("ERR_POLICY_MISSING", `no policy for ${missing.join(", ")}`, missing);
  }
}
