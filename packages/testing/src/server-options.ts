import { findBinary, type ServerBinary } from "./find-binary.js";
import { HarnessError } from "./harness-error.js";

/** Options shared by startRedis and startNats. */
export interface ServerOptions {
  /** Path of the server executable; found with findBinary when absent. */
  readonly binary?: string;
  /** Extra command-line arguments, appended after the harness's own. */
  readonly args?: readonly string[];
  /** How long a start may take before it fails with START_TIMEOUT. */
  readonly startTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before it sends SIGKILL. */
  readonly stopGraceMs?: number;
}

/** Generous because a cold CI machine can take seconds to start a first process. */
export const DEFAULT_START_TIMEOUT_MS = 10_000;
export const DEFAULT_STOP_GRACE_MS = 5_000;

export interface ResolvedServerOptions {
  readonly binary: string;
  readonly args: readonly string[];
  readonly startTimeoutMs: number;
  readonly stopGraceMs: number;
}

export function resolveServerOptions(name: ServerBinary, options: ServerOptions): ResolvedServerOptions {
  const resolved = {
    binary: options.binary ?? findBinary(name),
    args: options.args ?? [],
    startTimeoutMs: options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
    stopGraceMs: options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS,
  };
  for (const key of ["startTimeoutMs", "stopGraceMs"] as const) {
    const value = resolved[key];
    if (!Number.isFinite(value) || value <= 0) {
      throw new HarnessError("INVALID_OPTIONS", `${key} must be a positive number of milliseconds, got ${value}`);
    }
  }
  return resolved;
}
