/**
 * Who is listening: one core NATS request on the subject every revocation subscriber answers
 * (@trustmesh/revocation's presence responder), and every reply gathered until stop(). An
 * instance that does not answer is not counted; a reply that is not a presence is ignored.
 */
import { createInbox, type NatsConnection } from "@nats-io/transport-node";
import { REVOCATION_PRESENCE_SUBJECT } from "@trustmesh/revocation";
import { instanceName } from "./revocation-views.js";

const STATES = new Set(["replaying", "fresh", "stale", "closed"]);

export interface InstancePresence {
  readonly serviceId: string;
  readonly instanceId: string;
  readonly state: "replaying" | "fresh" | "stale" | "closed";
  readonly lastAppliedSequence: number;
  /** On the instance's clock; null before its first contact with the stream. */
  readonly lastContactUnixMs: number | null;
  readonly stalenessMs: number | null;
}

export interface PresenceProbe {
  /** Replies so far, by `service/instance`. */
  readonly replies: ReadonlyMap<string, InstancePresence>;
  onReply(listener: () => void): void;
  stop(): void;
}

/** Resolves once the request is sent, with the inbox subscribed before it. */
export async function probePresence(nc: NatsConnection): Promise<PresenceProbe> {
  const inbox = createInbox();
  const replies = new Map<string, InstancePresence>();
  const listeners = new Set<() => void>();
  const subscription = nc.subscribe(inbox, {
    callback: (error, message) => {
      if (error !== null) return;
      const presence = parsePresence(message.data);
      if (presence === undefined) return;
      replies.set(instanceName(presence), presence);
      for (const listener of listeners) listener();
    },
  });
  await nc.flush();
  nc.publish(REVOCATION_PRESENCE_SUBJECT, new Uint8Array(), { reply: inbox });
  return {
    replies,
    onReply(listener) {
      listeners.add(listener);
    },
    stop() {
      listeners.clear();
      subscription.unsubscribe();
    },
  };
}

function parsePresence(data: Uint8Array): InstancePresence | undefined {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(data));
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { serviceId, instanceId, state, lastAppliedSequence, lastContactUnixMs, stalenessMs } = value as Record<string, unknown>;
  const timeOrNull = (time: unknown): time is number | null => time === null || (typeof time === "number" && Number.isFinite(time));
  if (typeof serviceId !== "string" || serviceId === "" || typeof instanceId !== "string" || instanceId === "") return undefined;
  if (typeof state !== "string" || !STATES.has(state) || !Number.isSafeInteger(lastAppliedSequence) || !timeOrNull(lastContactUnixMs) || !timeOrNull(stalenessMs)) return undefined;
  return { serviceId, instanceId, state: state as InstancePresence["state"], lastAppliedSequence: lastAppliedSequence as number, lastContactUnixMs, stalenessMs };
}
