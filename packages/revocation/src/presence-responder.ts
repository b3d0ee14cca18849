/**
 * Presence: every subscriber instance answers a core NATS request on
 * REVOCATION_PRESENCE_SUBJECT with where it stands, so an operator tool can list the instances
 * that are listening, idle ones included (acks only show instances that just applied something).
 * The requester gathers replies for as long as it chooses; the reply is JSON, for any tool.
 */
import type { Subscription } from "@nats-io/transport-node";
import type { SubscriberState } from "./create-revocation-subscriber.js";
import type { ManagedConnection } from "./lib/connection.js";
import type { RevocationLogger } from "./logger.js";

export const REVOCATION_PRESENCE_SUBJECT = "trustmesh.revocation-status";

/** One instance's answer. Times are epoch ms on the instance's clock; null before first contact. */
export interface RevocationPresence {
  readonly serviceId: string;
  readonly instanceId: string;
  readonly state: SubscriberState;
  readonly lastAppliedSequence: number;
  readonly lastContactUnixMs: number | null;
  readonly stalenessMs: number | null;
}

export interface PresenceResponder {
  stop(): void;
}

/** Subscribes once the connection is made; NATS renews the subscription after each reconnect. */
export function answerPresence(connection: ManagedConnection, presence: () => RevocationPresence, logger: RevocationLogger): PresenceResponder {
  let subscription: Subscription | undefined;
  let stopped = false;
  const encoder = new TextEncoder();
  connection.connection().then(
    (nc) => {
      if (stopped) return;
      subscription = nc.subscribe(REVOCATION_PRESENCE_SUBJECT, {
        callback: (error, message) => {
          if (error !== null) return;
          try {
            message.respond(encoder.encode(JSON.stringify(presence())));
          } catch (cause) {
            logger.warn({ error: String(cause) }, "could not answer a presence request");
          }
        },
      });
    },
    () => undefined,
  );
  return {
    stop() {
      stopped = true;
      subscription?.unsubscribe();
    },
  };
}
