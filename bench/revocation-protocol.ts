/**
 * The lines revocation.bench.ts and its child processes exchange: JSON, one message a line, the
 * parent's on the child's stdin and the child's on its stdout. Every timestamp is
 * `performance.timeOrigin + performance.now()`, milliseconds on the machine's one wall clock, so
 * the parent can subtract a child's instants from its own.
 */
import type { JsonWebKeySet } from "@trustmesh/verifier";

/** The subscriber process's only argument. */
export interface SubscriberSpec {
  readonly natsUrl: string;
  readonly serviceId: string;
  readonly instanceId: string;
  readonly issuer: string;
  readonly audience: string;
  readonly jwks: JsonWebKeySet;
}

export type ToSubscriber =
  /** Tokens the parent will revoke one at a time, in this order; each must verify now. */
  | { readonly type: "arm"; readonly tokens: readonly string[] }
  | { readonly type: "ping"; readonly id: number }
  /** Verify every armed token again (each must now be rejected as revoked) and report. */
  | { readonly type: "final" };

/** When the verifier first rejected armed token `index` with ERR_TOKEN_REVOKED, seen from onChange. */
export interface Rejection {
  readonly index: number;
  readonly at: number;
  /** The subscriber's last applied stream sequence then. */
  readonly sequence: number;
}

export type FromSubscriber =
  /** The subscriber's replay is done. */
  | { readonly type: "ready" }
  /** `cpuUs`: this process's CPU time so far (user + system), in microseconds. */
  | { readonly type: "armed"; readonly cpuUs: number }
  | { readonly type: "pong"; readonly id: number; readonly at: number }
  | {
      readonly type: "final";
      readonly cpuUs: number;
      /** Kept in memory until now: writing each one as it happened would cost CPU the other subscribers wait for. */
      readonly rejections: readonly Rejection[];
      readonly revoked: number;
      readonly other: readonly string[];
      readonly cacheMisses: number;
    }
  | { readonly type: "error"; readonly message: string };

/** The memory process's only line: heap bytes per entry, one figure per round. */
export interface MemoryResult {
  readonly entries: number;
  readonly jtiLength: number;
  readonly mapBytesPerEntry: readonly number[];
  readonly denylistBytesPerEntry: readonly number[];
}

export function cpuUs(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

export function now(): number {
  return performance.timeOrigin + performance.now();
}
