/**
 * Every RevocationAck the instances publish, from the moment the subscription is in place:
 * trustctl subscribes before it revokes, so that no instance can acknowledge too early to be seen.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { revocationV1 } from "@trustmesh/proto";
import { REVOCATION_ACK_SUBJECTS } from "@trustmesh/revocation";

export interface AckListener {
  /** Every ack received so far, in arrival order. */
  readonly acks: readonly revocationV1.RevocationAck[];
  /** Called for each ack as it arrives; returns a function that removes the listener. */
  onAck(listener: (ack: revocationV1.RevocationAck) => void): () => void;
  stop(): void;
}

/** Resolves once the server has the subscription. */
export async function listenForAcks(nc: NatsConnection): Promise<AckListener> {
  const acks: revocationV1.RevocationAck[] = [];
  const listeners = new Set<(ack: revocationV1.RevocationAck) => void>();
  const subscription = nc.subscribe(REVOCATION_ACK_SUBJECTS, {
    callback: (error, message) => {
      if (error !== null) return;
      let ack;
      try {
        ack = revocationV1.RevocationAck.decode(message.data);
      } catch {
        return;
      }
      if (ack.serviceId === "" || ack.instanceId === "") return;
      acks.push(ack);
      for (const listener of listeners) listener(ack);
    },
  });
  await nc.flush();
  return {
    acks,
    onAck(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    stop() {
      listeners.clear();
      subscription.unsubscribe();
    },
  };
}
