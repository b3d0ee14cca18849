/**
 * Seeing a revocation take effect: set up before the revoke call (ack subscription, presence
 * request), then, given the event the issuer stored, wait until every listening instance has
 * acknowledged it or the wait is over, and tally who applied it how fast.
 */
import type { JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { listenForAcks, type AckListener } from "./ack-listener.js";
import { everyoneApplied, tally, type Tally } from "./ack-tally.js";
import { connectNats, type NatsTarget } from "./nats-connection.js";
import { probePresence, type PresenceProbe } from "./presence-probe.js";
import { openStreamManager, readEvent } from "./revocation-stream.js";

/**
 * Presence replies come within milliseconds on one NATS and tens of them across a cluster; the
 * ack count is not called complete before this long after the request, so a slow reply still counts.
 */
export const PRESENCE_GRACE_MS = 250;

export interface Followed {
  readonly tally: Tally;
  /** The event's revokedAt (issuer's clock), the latency baseline; undefined if the stream could not be read. */
  readonly revokedAtUnixMs: number | undefined;
  /** How long trustctl waited after the revoke call returned: less than --wait once everyone applied it. */
  readonly waitedMs: number;
}

export interface RevocationFollow {
  /** From the moment the revoke call returned (`returnedAtMs`), waits at most `waitMs`. */
  finish(eventId: string, sequence: number, returnedAtMs: number, waitMs: number): Promise<Followed>;
  close(): Promise<void>;
}

export async function startFollowing(target: NatsTarget, timeoutMs: number): Promise<RevocationFollow> {
  const nc = await connectNats(target, timeoutMs);
  let acks: AckListener | undefined;
  let presence: PresenceProbe | undefined;
  let jsm: JetStreamManager;
  try {
    acks = await listenForAcks(nc);
    presence = await probePresence(nc);
    jsm = await openStreamManager(nc, target, timeoutMs);
  } catch (error) {
    acks?.stop();
    presence?.stop();
    await nc.close();
    throw error;
  }
  return new Follow(nc, jsm, acks, presence, Date.now());
}

class Follow implements RevocationFollow {
  constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly acks: AckListener,
    private readonly presence: PresenceProbe,
    private readonly probedAtMs: number,
  ) {}

  async finish(eventId: string, sequence: number, returnedAtMs: number, waitMs: number): Promise<Followed> {
    const event = await readEvent(this.jsm, sequence);
    const revokedAtUnixMs = event?.id === eventId ? event.revokedAtUnixMs : undefined;
    const baseline = revokedAtUnixMs ?? returnedAtMs;
    const current = (): Tally => tally(eventId, this.acks.acks, this.presence.replies, baseline);
    await new Promise<void>((resolve) => {
      const timers: NodeJS.Timeout[] = [];
      let removeAckListener = (): void => undefined;
      const done = (): void => {
        for (const timer of timers) clearTimeout(timer);
        removeAckListener();
        resolve();
      };
      const look = (): void => {
        if (Date.now() - this.probedAtMs >= PRESENCE_GRACE_MS && everyoneApplied(current())) done();
      };
      timers.push(setTimeout(done, Math.max(0, returnedAtMs + waitMs - Date.now())));
      timers.push(setTimeout(look, Math.max(0, this.probedAtMs + PRESENCE_GRACE_MS - Date.now())));
      removeAckListener = this.acks.onAck(look);
      this.presence.onReply(look);
      look();
    });
    return { tally: current(), revokedAtUnixMs, waitedMs: Date.now() - returnedAtMs };
  }

  async close(): Promise<void> {
    this.acks.stop();
    this.presence.stop();
    await this.nc.close();
  }
}
