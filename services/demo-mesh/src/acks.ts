/**
 * What `trustctl revoke` shows an operator: which instances applied a revocation, and how long
 * after the issuer stored it. Every subscriber acknowledges each event it applies.
 */
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { revocationV1 } from "@trustmesh/proto";
import { REVOCATION_ACK_SUBJECTS } from "@trustmesh/revocation";

export interface AckWatcher {
  /** Resolves with each instance's delay in ms once `instances` have applied `eventId`. */
  applied(eventId: string, since: number, instances: number, timeoutMs?: number): Promise<{ instance: string; ms: number }[]>;
  close(): Promise<void>;
}

export async function watchAcks(url: string): Promise<AckWatcher> {
  const nc: NatsConnection = await connect({ servers: url });
  const seen = new Map<string, { instance: string; at: number }[]>();
  const waiters = new Set<() => void>();
  const subscription = nc.subscribe(REVOCATION_ACK_SUBJECTS, {
    callback: (_error, message) => {
      const ack = revocationV1.RevocationAck.decode(message.data);
      const list = seen.get(ack.eventId) ?? [];
      list.push({ instance: `${ack.serviceId}/${ack.instanceId.slice(0, 8)}`, at: ack.appliedAtUnixMs });
      seen.set(ack.eventId, list);
      for (const waiter of waiters) waiter();
    },
  });
  await nc.flush();
  return {
    applied(eventId, since, instances, timeoutMs = 2_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const list = seen.get(eventId) ?? [];
          if (list.length < instances) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(list.map(({ instance, at }) => ({ instance, ms: Math.max(0, at - since) })));
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`only ${(seen.get(eventId) ?? []).length}/${instances} instances applied the revocation within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      subscription.unsubscribe();
      await nc.close();
    },
  };
}
