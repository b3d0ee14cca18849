/**
 * How revocation events and acknowledgements look to a person (one line each, control
 * characters escaped: every field came over the network) and to a script (plain JSON).
 */
import type { revocationV1 } from "@trustmesh/proto";
import { isoTime, printable } from "./output.js";

export type EventKind = "token" | "subject" | "key" | "unknown";

export interface EventView {
  readonly type: "event";
  readonly sequence: number;
  readonly eventId: string;
  readonly kind: EventKind;
  /** The kind's fields: { jti, sub, expUnix } | { sub, issuedBeforeUnix, expiresAtUnix } | { kid, expiresAtUnix }. */
  readonly target: Readonly<Record<string, string | number>>;
  readonly reason: string;
  readonly actor: string;
  readonly revokedAt: string;
  readonly revokedAtUnixMs: number;
}

export interface AckView {
  readonly type: "ack";
  readonly sequence: number;
  readonly eventId: string;
  readonly serviceId: string;
  readonly instanceId: string;
  readonly appliedAtUnixMs: number;
  /** appliedAt − the event's revokedAt, on the instance's and the issuer's clocks; null if the event is not known here. */
  readonly latencyMs: number | null;
}

export function eventView(sequence: number, event: revocationV1.RevocationEvent): EventView {
  const { target } = event;
  const [kind, fields]: [EventKind, EventView["target"]] =
    target?.$case === "token"
      ? ["token", { jti: target.value.jti, sub: target.value.sub, expUnix: target.value.expUnix }]
      : target?.$case === "subject"
        ? ["subject", { sub: target.value.sub, issuedBeforeUnix: target.value.issuedBeforeUnix, expiresAtUnix: target.value.expiresAtUnix }]
        : target?.$case === "signingKey"
          ? ["key", { kid: target.value.kid, expiresAtUnix: target.value.expiresAtUnix }]
          : ["unknown", {}];
  return {
    type: "event",
    sequence,
    eventId: event.id,
    kind,
    target: fields,
    reason: event.reason,
    actor: event.actor,
    revokedAt: new Date(event.revokedAtUnixMs).toISOString(),
    revokedAtUnixMs: event.revokedAtUnixMs,
  };
}

export function ackView(ack: revocationV1.RevocationAck, revokedAtUnixMs: number | undefined): AckView {
  return {
    type: "ack",
    sequence: ack.streamSequence,
    eventId: ack.eventId,
    serviceId: ack.serviceId,
    instanceId: ack.instanceId,
    appliedAtUnixMs: ack.appliedAtUnixMs,
    latencyMs: revokedAtUnixMs === undefined ? null : ack.appliedAtUnixMs - revokedAtUnixMs,
  };
}

/** What an event revokes, after its kind: `jti abc (sub orders, exp …)`, `sub orders, tokens issued before …`, `kid …`. */
export function targetText(view: EventView): string {
  const { target } = view;
  switch (view.kind) {
    case "token":
      return `jti ${String(target["jti"])} (sub ${String(target["sub"])}, exp ${isoTime(Number(target["expUnix"]) * 1000)})`;
    case "subject":
      return `sub ${String(target["sub"])}, tokens issued before ${isoTime(Number(target["issuedBeforeUnix"]) * 1000)}`;
    case "key":
      return `kid ${String(target["kid"])}`;
    case "unknown":
      return "(an event of a kind this trustctl does not know)";
  }
}

/** `2026-01-01T00:00:00.123Z  #12  token    jti abc (sub orders, …)  by ops  reason "leaked"` */
export function eventLine(view: EventView): string {
  const reason = view.reason === "" ? "" : `  reason ${JSON.stringify(view.reason)}`;
  return printable(`${view.revokedAt}  #${view.sequence}  ${view.kind.padEnd(7)}  ${targetText(view)}  by ${view.actor}${reason}`);
}

/** `2026-01-01T00:00:00.127Z  #12  applied  payments/payments-1 (+4 ms)` */
export function ackLine(view: AckView): string {
  const latency = view.latencyMs === null ? "" : ` (${view.latencyMs < 0 ? "" : "+"}${view.latencyMs} ms)`;
  return printable(`${new Date(view.appliedAtUnixMs).toISOString()}  #${view.sequence}  applied  ${instanceName(view)}${latency}`);
}

export function instanceName(instance: { readonly serviceId: string; readonly instanceId: string }): string {
  return `${instance.serviceId}/${instance.instanceId}`;
}
