/**
 * @trustmesh/cli: trustctl, the platform team's tool for a trustmesh issuer. `main.ts` is the
 * executable; `runTrustctl` runs the same thing in-process, with the streams and environment given.
 */
export { runTrustctl } from "./run.js";
export type { TrustctlIo } from "./output.js";
export { EXIT, type ExitCode } from "./exit-codes.js";
