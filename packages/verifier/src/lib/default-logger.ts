import type { VerifierLogger } from "../types.js";

/** Without a logger the verifier still says when it drops a key: as a process warning. */
export const defaultLogger: VerifierLogger = {
  warn(fields, message) {
    process.emitWarning(`${message} ${JSON.stringify(fields)}`, { code: "TRUSTMESH_VERIFIER" });
  },
};
