import { fileURLToPath } from "node:url";

/**
 * The directory holding the `.proto` sources (`trustmesh/...`), for what needs descriptors at run
 * time: server reflection, and policies read from method options with @grpc/proto-loader.
 */
export const PROTO_ROOT: string = fileURLToPath(new URL("../../../proto/", import.meta.url));
