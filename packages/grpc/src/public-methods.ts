import { publicMethod, type PolicyMap } from "./policy.js";

/**
 * The standard gRPC health and reflection methods as public, for a service owner to spread into
 * its policies on purpose. Nothing is public by default: a method missing from the map is denied.
 */
export const HEALTH_AND_REFLECTION_POLICIES: PolicyMap = Object.freeze({
  "/grpc.health.v1.Health/Check": publicMethod(),
  "/grpc.health.v1.Health/Watch": publicMethod(),
  "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo": publicMethod(),
  "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": publicMethod(),
});
