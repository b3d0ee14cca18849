/**
 * Waiting on the events tests are about (a change, a status, an ack), each with a deadline,
 * so that no test stands on a sleep.
 */
import { randomBytes } from "node:crypto";
import { connect, type NatsConnection, type Status } from "@nats-io/transport-node";
import { revocationV1 } from "@trustmesh/proto";
import type { RevocationFeed, RevocationQuery, RevocationStatus } from "@trustmesh/verifier";
import { REVOCATION_ACK_SUBJECTS } from "../subjects.js";

export const WAIT_MS = 10_000;

export function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${what}: not within ${ms} ms`));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => {
    clearTimeout(timer);
  });
}

/** Resolves once `feed.check(token)` answers `status`, looking again after every change. */
export function untilStatus(feed: RevocationFeed, token: RevocationQuery, status: RevocationStatus): Promise<void> {
  let stop = (): void => undefined;
  const reached = new Promise<void>((resolve) => {
    const look = (): void => {
      if (feed.check(token) === status) resolve();
    };
    stop = feed.onChange(look);
    look();
  });
  return within(reached, `check() to answer ${status}`).finally(() => {
    stop();
  });
}

/** The claims the revocation check sees, for a fresh token of `sub` issued now. */
export function tokenQuery(overrides: Partial<RevocationQuery> = {}): RevocationQuery {
  const iat = Math.floor(Date.now() / 1000);
  return { jti: newId(), sub: "orders", iat, exp: iat + 600, kid: `kid-${newId()}`, ...overrides };
}

export function newId(): string {
  return randomBytes(12).toString("base64url");
}

export function audit(): { reason: string; actor: string } {
  return { reason: "test", actor: "vitest" };
}

export function client(url: string): Promise<NatsConnection> {
  return connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 50 });
}

/** Create before causing the event: the status iterator queues only what comes after it. */
export function nextStatus(nc: NatsConnection, type: Status["type"]): Promise<void> {
  const statuses = nc.status()[Symbol.asyncIterator]();
  const seen = (async () => {
    for (let next = await statuses.next(); next.done !== true; next = await statuses.next()) {
      if (next.value.type === type) return;
    }
    throw new Error(`status iterator ended before "${type}"`);
  })();
  return within(seen, `"${type}" status`).finally(() => {
    void statuses.return?.();
  });
}

export interface AckCollector {
  readonly acks: revocationV1.RevocationAck[];
  until(done: (acks: readonly revocationV1.RevocationAck[]) => boolean): Promise<void>;
}

/** Every RevocationAck published from the moment this resolves (the server has the subscription). */
export async function collectAcks(nc: NatsConnection): Promise<AckCollector> {
  const acks: revocationV1.RevocationAck[] = [];
  const waiters = new Set<() => void>();
  nc.subscribe(REVOCATION_ACK_SUBJECTS, {
    callback: (error, message) => {
      if (error !== null) return;
      acks.push(revocationV1.RevocationAck.decode(message.data));
      for (const waiter of waiters) waiter();
    },
  });
  await nc.flush();
  return {
    acks,
    until(done) {
      const reached = new Promise<void>((resolve) => {
        const look = (): void => {
          if (done(acks)) resolve();
        };
        waiters.add(look);
        look();
      });
      return within(reached, "the expected acks").finally(() => {
        waiters.clear();
      });
    },
  };
}
