import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { revocationV1 } from "@trustmesh/proto";
import type { RevocationFeed, RevocationQuery, RevocationStatus } from "@trustmesh/verifier";
import { Denylist, type DenylistSize } from "./denylist.js";
import { DEFAULT_TOLERANCE_SEC } from "./ensure-revocation-stream.js";
import { RevocationError } from "./errors.js";
import { ManagedConnection, type NatsTarget } from "./lib/connection.js";
import { StreamFollower } from "./lib/stream-follower.js";
import { fail, requireFunction, requireInteger } from "./lib/validate.js";
import { SILENT_LOGGER, type RevocationLogger } from "./logger.js";
import { answerPresence, type PresenceResponder, type RevocationPresence } from "./presence-responder.js";
import { INSTANCE_ID_PATTERN, revocationAckSubject } from "./subjects.js";

/** Past this long without contact with the stream, checks fail closed (by default). */
export const DEFAULT_MAX_STALENESS_MS = 30_000;
/** How often the stream is checked (and the consumer heartbeats), capped at a third of the staleness. */
export const DEFAULT_CONTACT_CHECK_INTERVAL_MS = 5_000;
export const DEFAULT_STALE_POLICY: StalePolicy = "fail-closed";
/**
 * The denylist is pruned this often, a 1/PRUNE_SWEEP_TICKS share of its jti entries at a time:
 * every entry is looked at every 30 s, in slices of about 1 ms at 1,000,000 entries.
 */
export const PRUNE_INTERVAL_MS = 250;
export const PRUNE_SWEEP_TICKS = 120;
const MIN_PRUNE_BATCH = 1_024;

/** "fail-closed": a stale subscriber answers "unavailable". "allow": it answers from what it has. */
export type StalePolicy = "fail-closed" | "allow";

/** "fresh" is the only state in which a fail-closed subscriber vouches for tokens (gRPC health: SERVING). */
export type SubscriberState = "replaying" | "fresh" | "stale" | "closed";

export interface RevocationSubscriberOptions extends NatsTarget {
  /** This service's id, in every acknowledgement. Required. */
  readonly serviceId: string;
  /** This process within the service; defaults to host, pid and a random suffix. */
  readonly instanceId?: string;
  readonly maxStalenessMs?: number;
  readonly stalePolicy?: StalePolicy;
  readonly contactCheckIntervalMs?: number;
  /** How long past `exp` the verifier accepts a token; denylist entries are kept that much longer. */
  readonly toleranceSec?: number;
  /** Milliseconds since the epoch; injectable so tests can move time. */
  readonly now?: () => number;
  readonly logger?: RevocationLogger;
}

/** The live, NATS-fed revocation check; give it to `createVerifier({ revocation })`. */
export interface RevocationSubscriber extends RevocationFeed {
  check(token: RevocationQuery): RevocationStatus;
  /** Resolves once the stream, as it was at start, has been applied; rejects after close(). */
  ready(): Promise<void>;
  close(): Promise<void>;
  readonly serviceId: string;
  readonly instanceId: string;
  readonly state: SubscriberState;
  /** The stream sequence of the last event applied; 0 before the first. */
  readonly lastAppliedSequence: number;
  /** When this subscriber last knew it held every event the stream had (epoch ms). */
  readonly lastContactMs: number | undefined;
  /** Milliseconds since lastContactMs; Infinity before the first contact. */
  readonly stalenessMs: number;
  readonly denylistSize: DenylistSize;
}

export function createRevocationSubscriber(options: RevocationSubscriberOptions): RevocationSubscriber {
  return new Subscriber(options);
}

class Subscriber implements RevocationSubscriber {
  readonly serviceId: string;
  readonly instanceId: string;
  readonly #maxStalenessMs: number;
  readonly #allowStale: boolean;
  readonly #now: () => number;
  readonly #logger: RevocationLogger;
  readonly #ackSubject: string;
  readonly #denylist: Denylist;
  readonly #connection: ManagedConnection;
  readonly #follower: StreamFollower;
  readonly #listeners = new Set<() => void>();
  readonly #ready: Promise<void>;
  readonly #pruneTimer: NodeJS.Timeout;
  #lastState: SubscriberState = "replaying";
  readonly #activeAt = new WeakMap<RevocationQuery, number>();
  readonly #presence: PresenceResponder;
  #settleReady: ((error?: RevocationError) => void) | undefined;
  #position = 0;
  #lastContactMs = -Infinity;
  #replayed = false;
  #closed = false;

  constructor(options: RevocationSubscriberOptions) {
    if (typeof options !== "object" || options === null) fail("ERR_REVOCATION_OPTIONS", "options", "must be an object");
    this.serviceId = requireInstanceId("serviceId", options.serviceId);
    this.instanceId = requireInstanceId("instanceId", options.instanceId ?? defaultInstanceId());
    this.#maxStalenessMs = requireInteger("ERR_REVOCATION_OPTIONS", "maxStalenessMs", options.maxStalenessMs ?? DEFAULT_MAX_STALENESS_MS, 10, 86_400_000);
    const stalePolicy = options.stalePolicy ?? DEFAULT_STALE_POLICY;
    if (stalePolicy !== "fail-closed" && stalePolicy !== "allow") fail("ERR_REVOCATION_OPTIONS", "stalePolicy", 'must be "fail-closed" or "allow"');
    this.#allowStale = stalePolicy === "allow";
    const defaultCheck = Math.max(1, Math.min(DEFAULT_CONTACT_CHECK_INTERVAL_MS, Math.floor(this.#maxStalenessMs / 3)));
    // Contact comes no more often than this, so it must fit in the staleness budget several times.
    const checkIntervalMs = requireInteger("ERR_REVOCATION_OPTIONS", "contactCheckIntervalMs", options.contactCheckIntervalMs ?? defaultCheck, 1, Math.floor(this.#maxStalenessMs / 2));
    this.#now = requireFunction("now", options.now, Date.now);
    this.#logger = options.logger ?? SILENT_LOGGER;
    if (typeof this.#logger.warn !== "function") fail("ERR_REVOCATION_OPTIONS", "logger", "must have a warn(fields, message) method");
    this.#denylist = new Denylist({ toleranceSec: options.toleranceSec ?? DEFAULT_TOLERANCE_SEC, now: this.#now });
    this.#ackSubject = revocationAckSubject(this.serviceId, this.instanceId);
    this.#connection = new ManagedConnection(options, `trustmesh-revocation:${this.serviceId}:${this.instanceId}`, this.#logger);

    this.#ready = new Promise<void>((resolve, reject) => {
      this.#settleReady = (error) => {
        this.#settleReady = undefined;
        if (error === undefined) resolve();
        else reject(error);
      };
    });
    // Nobody has to call ready(): its rejection on close() must not count as unhandled.
    this.#ready.catch(() => undefined);

    this.#follower = new StreamFollower(this.#connection, { checkIntervalMs, logger: this.#logger }, {
      position: () => this.#position,
      message: (sequence, data) => {
        this.#apply(sequence, data);
      },
      contact: () => {
        this.#lastContactMs = this.#now();
      },
      replayed: () => {
        this.#replayed = true;
        this.#settleReady?.();
        this.#notify();
      },
      restarted: () => {
        this.#position = 0;
      },
    });
    this.#follower.start();
    this.#pruneTimer = setInterval(() => {
      this.#denylist.prune(Math.max(MIN_PRUNE_BATCH, Math.ceil(this.#denylist.size.tokens / PRUNE_SWEEP_TICKS)));
      this.#watchFreshness();
    }, PRUNE_INTERVAL_MS);
    this.#pruneTimer.unref();
    this.#presence = answerPresence(this.#connection, () => this.#presenceReply(), this.#logger);
  }

  /**
   * The hot path: a clock read and a few map lookups, no allocation. A token already found
   * active at the denylist's current version is not looked up again: the verifier hands back
   * the same claims object on every cache hit, and a million-entry denylist's lookups miss the
   * CPU cache, while a WeakMap hit on a recent object does not.
   */
  check(token: RevocationQuery): RevocationStatus {
    if (!this.#allowStale && !this.#vouches()) return "unavailable";
    const version = this.#denylist.version;
    if (this.#activeAt.get(token) === version) return "active";
    const status = this.#denylist.check(token);
    if (status === "active") this.#activeAt.set(token, version);
    return status;
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#pruneTimer);
    this.#presence.stop();
    this.#settleReady?.(new RevocationError("ERR_REVOCATION_CLOSED", "the subscriber was closed before its replay finished"));
    await this.#follower.close();
    await this.#connection.close();
  }

  get state(): SubscriberState {
    if (this.#closed) return "closed";
    if (!this.#replayed) return "replaying";
    return this.#vouches() ? "fresh" : "stale";
  }

  get lastAppliedSequence(): number {
    return this.#position;
  }

  get lastContactMs(): number | undefined {
    return Number.isFinite(this.#lastContactMs) ? this.#lastContactMs : undefined;
  }

  get stalenessMs(): number {
    return this.#now() - this.#lastContactMs;
  }

  get denylistSize(): DenylistSize {
    return this.#denylist.size;
  }

  /**
   * Going stale is time passing without news, which no event announces: listeners (open streams,
   * health) hear of it, and of recovering, from here, within one prune interval.
   */
  #watchFreshness(): void {
    const state = this.state;
    const previous = this.#lastState;
    this.#lastState = state;
    // Replaying -> fresh is announced by the replay itself; every other step between these is news.
    const announced = previous === "replaying" && state === "fresh";
    if (state !== previous && state !== "closed" && state !== "replaying" && !announced) this.#notify();
  }

  #vouches(): boolean {
    return this.#replayed && !this.#closed && this.#now() - this.#lastContactMs <= this.#maxStalenessMs;
  }

  #apply(sequence: number, data: Uint8Array): void {
    this.#position = sequence;
    let event: revocationV1.RevocationEvent;
    try {
      event = revocationV1.RevocationEvent.decode(data);
    } catch (error) {
      this.#logger.warn({ sequence, error: String(error) }, "skipped an undecodable revocation event");
      return;
    }
    const changed = this.#denylist.apply(event);
    // Listeners hear of the replay once, when it is done, not once per replayed event; and only
    // live events are acknowledged: an operator counts who applied a revocation just made.
    if (!this.#replayed) return;
    if (changed) this.#notify();
    // After the listeners, so ending streams does not wait behind a socket write.
    setImmediate(() => {
      this.#acknowledge(event.id, sequence);
    });
  }

  /** Core NATS, fire and forget: an ack is for the operator's eyes, not for delivery. */
  #acknowledge(eventId: string, sequence: number): void {
    const ack = revocationV1.RevocationAck.encode({
      eventId,
      streamSequence: sequence,
      serviceId: this.serviceId,
      instanceId: this.instanceId,
      appliedAtUnixMs: this.#now(),
    }).finish();
    try {
      this.#connection.current?.publish(this.#ackSubject, ack);
    } catch (error) {
      this.#logger.warn({ sequence, error: String(error) }, "could not acknowledge a revocation event");
    }
  }

  #presenceReply(): RevocationPresence {
    const lastContactMs = this.lastContactMs;
    return {
      serviceId: this.serviceId,
      instanceId: this.instanceId,
      state: this.state,
      lastAppliedSequence: this.#position,
      lastContactUnixMs: lastContactMs ?? null,
      stalenessMs: lastContactMs === undefined ? null : this.#now() - lastContactMs,
    };
  }

  #notify(): void {
    for (const listener of this.#listeners) {
      try {
        listener();
      } catch (error) {
        this.#logger.warn({ error: String(error) }, "a revocation change listener threw");
      }
    }
  }
}

function requireInstanceId(field: string, value: unknown): string {
  if (typeof value !== "string" || !INSTANCE_ID_PATTERN.test(value)) {
    fail("ERR_REVOCATION_OPTIONS", field, `must match ${String(INSTANCE_ID_PATTERN)}`);
  }
  return value;
}

function defaultInstanceId(): string {
  const host = hostname().replaceAll(/[^A-Za-z0-9._:-]/g, "-").replace(/^[^A-Za-z0-9]+/, "").slice(0, 100);
  return `${host === "" ? "instance" : host}-${process.pid}-${randomBytes(3).toString("hex")}`;
}
