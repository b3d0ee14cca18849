import { connect, type NatsConnection, type QueuedIterator, type Status } from "@nats-io/transport-node";
import { RevocationError } from "../errors.js";
import type { RevocationLogger } from "../logger.js";
import { backoffMs, Pauses } from "./pauses.js";
import { fail } from "./validate.js";

/** Where to find NATS: a connection the caller owns, or servers to connect to (and own). */
export interface NatsTarget {
  /** Give it `maxReconnectAttempts: -1`: a connection that gives up can never catch up again. */
  readonly nc?: NatsConnection;
  readonly servers?: string | readonly string[];
}

/** Short, so a restarted server is found again within a fraction of the staleness budget. */
export const RECONNECT_TIME_WAIT_MS = 250;
/** Pings find a dead peer that never closed the socket (a partition) long before TCP would. */
export const PING_INTERVAL_MS = 10_000;

/**
 * "connecting" until the first attempt settles; then "up" or "down" as the status stream says.
 * Only "down" is known trouble: a publish then fails at once instead of waiting out its deadline.
 */
export type ConnectionState = "connecting" | "up" | "down";

/** A connection plus whether it is up right now, learned from its status stream. */
export class ManagedConnection {
  readonly #owned: boolean;
  readonly #connection: Promise<NatsConnection>;
  readonly #pauses = new Pauses();
  #nc: NatsConnection | undefined;
  #statuses: AsyncIterable<Status> | undefined;
  #state: ConnectionState = "connecting";
  #firstAttempt: Promise<void>;
  #firstAttemptSettled: () => void = () => undefined;
  #closed = false;

  constructor(target: NatsTarget, name: string, logger: RevocationLogger) {
    this.#firstAttempt = new Promise((resolve) => {
      this.#firstAttemptSettled = resolve;
    });
    if ((target.nc === undefined) === (target.servers === undefined)) {
      fail("ERR_REVOCATION_OPTIONS", "nc", "give exactly one of `nc` and `servers`");
    }
    if (target.nc !== undefined) {
      if (typeof target.nc.publish !== "function") fail("ERR_REVOCATION_OPTIONS", "nc", "must be a NatsConnection");
      this.#owned = false;
      this.#state = target.nc.isClosed() ? "down" : "up";
      this.#firstAttemptSettled();
      this.#connection = Promise.resolve(target.nc);
    } else {
      const servers = target.servers;
      const valid = typeof servers === "string" || (Array.isArray(servers) && servers.length > 0 && servers.every((s) => typeof s === "string"));
      if (!valid) fail("ERR_REVOCATION_OPTIONS", "servers", "must be a server URL or a non-empty array of them");
      this.#owned = true;
      this.#connection = this.#connect(typeof servers === "string" ? [servers] : [...(servers ?? [])], name, logger);
    }
    this.#connection.then(
      (nc) => {
        this.#adopt(nc);
      },
      () => undefined,
    );
  }

  /** Resolves once connected (at once for a caller's connection); rejects after close(). */
  connection(): Promise<NatsConnection> {
    if (this.#closed) return Promise.reject(closedError());
    return this.#connection;
  }

  /** The connection once made, for fire-and-forget publishes that must not wait for it. */
  get current(): NatsConnection | undefined {
    return this.#closed ? undefined : this.#nc;
  }

  /** Resolves once `state` is no longer "connecting" (or on close). */
  settled(): Promise<void> {
    return this.#firstAttempt;
  }

  get state(): ConnectionState {
    return this.#closed ? "down" : this.#state;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#firstAttemptSettled();
    this.#pauses.cancelAll();
    (this.#statuses as Partial<QueuedIterator<Status>> | undefined)?.stop?.();
    if (this.#owned && this.#nc !== undefined) await this.#nc.close();
  }

  /**
   * Our own first-connect loop rather than `waitOnFirstConnect`: that one cannot be cancelled,
   * and would keep trying (and the process alive) after close().
   */
  async #connect(servers: string[], name: string, logger: RevocationLogger): Promise<NatsConnection> {
    for (let attempt = 0; ; attempt++) {
      if (this.#closed) throw closedError();
      try {
        const nc = await connect({
          servers,
          name,
          maxReconnectAttempts: -1,
          reconnectTimeWait: RECONNECT_TIME_WAIT_MS,
          pingInterval: PING_INTERVAL_MS,
        });
        this.#state = "up";
        this.#firstAttemptSettled();
        return nc;
      } catch (error) {
        this.#state = "down";
        this.#firstAttemptSettled();
        if (attempt === 0) logger.warn({ servers, error: String(error) }, "NATS unreachable; retrying");
        await this.#pauses.wait(backoffMs(attempt));
      }
    }
  }

  #adopt(nc: NatsConnection): void {
    this.#nc = nc;
    if (this.#closed) {
      if (this.#owned) void nc.close();
      return;
    }
    const statuses = nc.status();
    this.#statuses = statuses;
    void (async () => {
      for await (const status of statuses) {
        if (status.type === "disconnect" || status.type === "close") this.#state = "down";
        if (status.type === "reconnect") this.#state = "up";
      }
    })();
  }
}

function closedError(): RevocationError {
  return new RevocationError("ERR_REVOCATION_CLOSED", "closed");
}
