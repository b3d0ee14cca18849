/**
 * The trustmesh protobuf packages as TypeScript: messages with their codecs, and the
 * grpc-js service definitions. Each proto package is a namespace of its own, so the
 * generated names never collide and a version bump (v2) can sit beside v1.
 */
export * as adminV1 from "./gen/trustmesh/admin/v1/admin.js";
export * as demoV1 from "./gen/trustmesh/demo/v1/demo.js";
export * as issuerV1 from "./gen/trustmesh/issuer/v1/issuer.js";
export * as policyV1 from "./gen/trustmesh/v1/policy.js";
export * as revocationV1 from "./gen/trustmesh/revocation/v1/revocation.js";
export { PROTO_ROOT } from "./proto-root.js";
