import type { revocationV1 } from "@trustmesh/proto";
import type { InstancePresence } from "./presence-probe.js";
import { instanceName } from "./revocation-views.js";

export interface InstanceRef {
  readonly serviceId: string;
  readonly instanceId: string;
}

export interface AppliedBy extends InstanceRef {
  /** The instance's appliedAt − the baseline (the event's revokedAt), in ms. */
  readonly latencyMs: number;
}

export interface Tally {
  /** The instances that acknowledged the event, by service and instance id. */
  readonly applied: readonly AppliedBy[];
  /**
   * The instances known to be listening: those that answered the presence request or
   * acknowledged anything meanwhile. undefined when none answered it (subscribers too old to,
   * or none at all): then only the count of those that applied is known, not what it is out of.
   */
  readonly listening: number | undefined;
  /** Listening instances that did not acknowledge the event. */
  readonly missing: readonly InstanceRef[];
  readonly slowestMs: number | undefined;
}

/** What the acks and presence replies gathered say about one event. */
export function tally(eventId: string, acks: readonly revocationV1.RevocationAck[], presence: ReadonlyMap<string, InstancePresence>, baselineMs: number): Tally {
  const applied = new Map<string, AppliedBy>();
  const known = new Map<string, InstanceRef>();
  for (const [name, reply] of presence) known.set(name, { serviceId: reply.serviceId, instanceId: reply.instanceId });
  for (const ack of acks) {
    const name = instanceName(ack);
    known.set(name, { serviceId: ack.serviceId, instanceId: ack.instanceId });
    // A replayed or repeated ack of the same event: the first one is when it took effect.
    if (ack.eventId === eventId && !applied.has(name)) {
      applied.set(name, { serviceId: ack.serviceId, instanceId: ack.instanceId, latencyMs: ack.appliedAtUnixMs - baselineMs });
    }
  }
  const byName = (a: InstanceRef, b: InstanceRef): number => instanceName(a).localeCompare(instanceName(b));
  const latencies = [...applied.values()].map((instance) => instance.latencyMs);
  return {
    applied: [...applied.values()].sort(byName),
    listening: presence.size === 0 ? undefined : known.size,
    missing: presence.size === 0 ? [] : [...known].filter(([name]) => !applied.has(name)).map(([, instance]) => instance).sort(byName),
    slowestMs: latencies.length === 0 ? undefined : Math.max(...latencies),
  };
}

/** Done waiting: every instance known to be listening has applied the event. */
export function everyoneApplied(result: Tally): boolean {
  return result.listening !== undefined && result.missing.length === 0;
}

/** `applied by 12/12 instances, slowest 4 ms`, or `applied by 12 instances (slowest 4 ms); …` when the total is unknown. */
export function tallyText(result: Tally, waitMs: number): string {
  const count = result.applied.length;
  const noun = (n: number): string => (n === 1 ? "instance" : "instances");
  if (result.listening === undefined) {
    if (count === 0) return `applied by no instance within ${waitMs} ms, and none answered the presence request`;
    return `applied by ${count} ${noun(count)} (slowest ${String(result.slowestMs)} ms); the total is unknown: no instance answered the presence request`;
  }
  const slowest = result.slowestMs === undefined ? "" : `, slowest ${result.slowestMs} ms`;
  const missing = result.missing.length === 0 ? "" : `; not within ${waitMs} ms: ${result.missing.map(instanceName).join(", ")}`;
  return `applied by ${count}/${result.listening} ${noun(result.listening)}${slowest}${missing}`;
}
