import {
  DeliverPolicy,
  jetstreamManager,
  type ConsumerMessages,
  type JetStreamManager,
  type JsMsg,
  type StreamState,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { RevocationLogger } from "../logger.js";
import { REVOCATION_STREAM } from "../subjects.js";
import type { ManagedConnection } from "./connection.js";
import { backoffMs, Pauses } from "./pauses.js";

/** What the follower reports to its owner, which holds the applied position. */
export interface FollowerEvents {
  /** The sequence after which the stream is to be read (the last one applied). */
  position(): number;
  /** One message, in stream order, past `position()`. */
  message(sequence: number, data: Uint8Array): void;
  /** Proof that nothing the stream holds is missing here, at this moment. */
  contact(): void;
  /** Everything the stream held when following began has been applied (or is gone). */
  replayed(): void;
  /** The stream was deleted and made again: its sequences start over. */
  restarted(): void;
}

export interface FollowerOptions {
  readonly checkIntervalMs: number;
  readonly logger: RevocationLogger;
}

/**
 * Reads TRUSTMESH_REVOCATIONS from its start and then live, through an ordered consumer: the
 * client recreates that consumer after a reconnect or a gap from the last stream sequence it
 * delivered, so a restart of the server loses nothing. Should the consumer give up for good
 * (it stops after repeated create failures), a new one is made from `position() + 1`.
 */
export class StreamFollower {
  readonly #connection: ManagedConnection;
  readonly #options: FollowerOptions;
  readonly #events: FollowerEvents;
  readonly #pauses = new Pauses();
  /** The stream's last sequence when following began: replay is done once it is applied. */
  #replayTarget: number | undefined;
  #replayed = false;
  #streamCreated: string | undefined;
  #messages: ConsumerMessages | undefined;
  #checkTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(connection: ManagedConnection, options: FollowerOptions, events: FollowerEvents) {
    this.#connection = connection;
    this.#options = options;
    this.#events = events;
  }

  start(): void {
    void this.#run().catch((error: unknown) => {
      if (!this.#closed) this.#options.logger.warn({ error: String(error) }, "revocation follower stopped");
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#checkTimer);
    this.#pauses.cancelAll();
    await this.#messages?.close().catch(() => undefined);
  }

  async #run(): Promise<void> {
    const nc = await this.#connection.connection();
    const jsm = await jetstreamManager(nc, { checkAPI: false, timeout: Math.max(1_000, this.#options.checkIntervalMs) });
    this.#scheduleCheck(jsm);
    for (let attempt = 0; !this.#closed; attempt++) {
      try {
        await this.#follow(nc, jsm);
        attempt = 0;
      } catch (error) {
        if (this.#closed) return;
        if (attempt === 0) this.#options.logger.warn({ error: String(error) }, "cannot follow the revocation stream; retrying");
      }
      if (nc.isClosed()) {
        this.#options.logger.warn({}, "the NATS connection is closed for good; revocations can no longer be followed");
        return;
      }
      await this.#pauses.wait(backoffMs(attempt));
    }
  }

  /** Resolves when the consumer ends (it gave up, or close()); rejects if it cannot start. */
  async #follow(nc: NatsConnection, jsm: JetStreamManager): Promise<void> {
    if (this.#replayTarget === undefined) {
      const info = await jsm.streams.info(REVOCATION_STREAM);
      this.#streamCreated = info.created;
      this.#replayTarget = info.state.last_seq;
      this.#observe(info.state);
    }
    const from = this.#events.position() + 1;
    const consumer = await jsm.jetstream().consumers.get(
      REVOCATION_STREAM,
      from > 1 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from } : { deliver_policy: DeliverPolicy.All },
    );
    if (this.#closed) return;
    // The consumer's idle heartbeat (half of `expires`) then comes as often as the stream check.
    const expires = Math.min(30_000, Math.max(1_000, 2 * this.#options.checkIntervalMs));
    const messages = await consumer.consume({ expires, callback: (message) => { this.#onMessage(message); } });
    this.#messages = messages;
    void this.#watch(messages);
    if (this.#closed || nc.isClosed()) await messages.close();
    const ended = await messages.closed();
    if (ended instanceof Error) throw ended;
  }

  #onMessage(message: JsMsg): void {
    if (message.seq > this.#events.position()) this.#events.message(message.seq, message.data);
    this.#events.contact();
    if (this.#replayTarget !== undefined && message.seq >= this.#replayTarget) this.#markReplayed();
  }

  async #watch(messages: ConsumerMessages): Promise<void> {
    for await (const status of messages.status()) {
      // The server heartbeats a consumer that has nothing left to deliver.
      if (status.type === "heartbeat") this.#events.contact();
    }
  }

  /** A stream check that shows this subscriber holding every message is contact, too. */
  #scheduleCheck(jsm: JetStreamManager): void {
    if (this.#closed) return;
    this.#checkTimer = setTimeout(() => {
      void this.#check(jsm).finally(() => {
        this.#scheduleCheck(jsm);
      });
    }, this.#options.checkIntervalMs);
    this.#checkTimer.unref();
  }

  async #check(jsm: JetStreamManager): Promise<void> {
    let info;
    try {
      info = await jsm.streams.info(REVOCATION_STREAM);
    } catch {
      return;
    }
    if (this.#closed || this.#replayTarget === undefined) return;
    if (this.#streamCreated !== undefined && info.created !== this.#streamCreated) {
      this.#restart(info.created);
      return;
    }
    this.#observe(info.state);
  }

  #observe(state: StreamState): void {
    if (this.#events.position() >= state.last_seq || state.messages === 0) this.#events.contact();
    // Replay is done, too, when what was left to replay has aged out of the stream (max_age).
    const target = this.#replayTarget ?? Infinity;
    if (Math.max(this.#events.position() + 1, state.first_seq) > target) this.#markReplayed();
  }

  #markReplayed(): void {
    if (this.#replayed) return;
    this.#replayed = true;
    this.#events.replayed();
  }

  /**
   * A recreated stream numbers from 1 again, so the old position would skip every new event
   * while the check above reported this subscriber caught up. Start over from its beginning.
   */
  #restart(created: string): void {
    this.#options.logger.warn({ stream: REVOCATION_STREAM }, "the revocation stream was recreated; replaying it from the start");
    this.#streamCreated = created;
    this.#events.restarted();
    void this.#messages?.close().catch(() => undefined);
  }
}
