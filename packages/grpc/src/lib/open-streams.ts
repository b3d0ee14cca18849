/**
 * The streaming calls an interceptor admitted and that are still open, each with what it was
 * admitted on. One timer for all of them, armed for the earliest expiry, and one revocation
 * listener: 10,000 open streams cost 10,000 heap entries, not 10,000 timers.
 */
import type { RevocationFeed, RevocationQuery, RevocationStatus } from "@trustmesh/verifier";
import type { AuthFailureCode } from "../auth-failure-status.js";
import { DeadlineHeap, type DeadlineEntry } from "./deadline-heap.js";

/** Why an open stream is ended by the interceptor rather than by its handler or its client. */
export type StreamEndReason = Extract<AuthFailureCode, "ERR_TOKEN_EXPIRED" | "ERR_TOKEN_REVOKED" | "ERR_REVOCATION_UNAVAILABLE">;

export interface OpenStreamsOptions {
  /** Epoch milliseconds. */
  readonly now: () => number;
  readonly revocation: RevocationFeed | undefined;
}

/** The handle of one tracked stream. */
export interface OpenStream {
  /** Stops tracking it: the call ended some other way. Idempotent. */
  forget(): void;
}

interface Entry extends DeadlineEntry {
  readonly token: RevocationQuery;
  readonly end: (reason: StreamEndReason) => void;
}

/** setTimeout's ceiling; a later deadline is reached by re-arming. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class OpenStreams {
  readonly #now: () => number;
  readonly #revocation: RevocationFeed | undefined;
  readonly #entries = new Set<Entry>();
  readonly #deadlines = new DeadlineHeap<Entry>();
  readonly #unsubscribe: () => void;
  #timer: NodeJS.Timeout | undefined;
  #timerDueMs = Infinity;
  #changes = 0;
  #sweepQueued = false;

  constructor(options: OpenStreamsOptions) {
    this.#now = options.now;
    this.#revocation = options.revocation;
    this.#unsubscribe = this.#revocation?.onChange(() => {
      this.#changed();
    }) ?? (() => undefined);
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * How many revocation changes have been seen. A call reads it before its token is verified and
   * hands it to `open`, so a change that lands between the check and the tracking is not missed.
   */
  get changes(): number {
    return this.#changes;
  }

  /** Tracks a stream until `forget` or until `end` is called with why it must stop. */
  open(token: RevocationQuery, end: (reason: StreamEndReason) => void, changesSeen: number): OpenStream {
    const entry: Entry = { token, end, dueMs: token.exp * 1000, heapIndex: -1 };
    this.#entries.add(entry);
    this.#deadlines.push(entry);
    if (entry.dueMs < this.#timerDueMs) this.#arm();
    if (changesSeen !== this.#changes) this.#queueSweep();
    return {
      forget: () => {
        this.#remove(entry);
      },
    };
  }

  /** Stops watching: no more expiry or revocation ends for the streams still open. */
  close(): void {
    this.#unsubscribe();
    this.#disarm();
  }

  #remove(entry: Entry): boolean {
    if (!this.#entries.delete(entry)) return false;
    this.#deadlines.remove(entry);
    if (this.#deadlines.size === 0) this.#disarm();
    return true;
  }

  #end(entry: Entry, reason: StreamEndReason): void {
    if (this.#remove(entry)) entry.end(reason);
  }

  #arm(): void {
    this.#disarm();
    const next = this.#deadlines.peek();
    if (next === undefined) return;
    this.#timerDueMs = next.dueMs;
    const delay = Math.min(Math.max(next.dueMs - this.#now(), 0), MAX_TIMER_MS);
    // Unref'd: an open stream keeps the process alive through its socket, not through this timer.
    this.#timer = setTimeout(() => {
      this.#expire();
    }, delay).unref();
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerDueMs = Infinity;
  }

  #expire(): void {
    this.#timer = undefined;
    this.#timerDueMs = Infinity;
    const now = this.#now();
    for (let next = this.#deadlines.peek(); next !== undefined && next.dueMs <= now; next = this.#deadlines.peek()) {
      this.#end(next, "ERR_TOKEN_EXPIRED");
    }
    this.#arm();
  }

  #changed(): void {
    this.#changes++;
    this.#queueSweep();
  }

  /** A burst of changes (a replay, a batch off the wire) costs one pass over the open streams. */
  #queueSweep(): void {
    if (this.#sweepQueued) return;
    this.#sweepQueued = true;
    setImmediate(() => {
      this.#sweepQueued = false;
      for (const entry of this.#entries) this.#recheck(entry);
    });
  }

  #recheck(entry: Entry): void {
    const revocation = this.#revocation;
    if (revocation === undefined) return;
    let answer: RevocationStatus | Promise<RevocationStatus>;
    try {
      answer = revocation.check(entry.token);
    } catch {
      this.#settle(entry, "unavailable");
      return;
    }
    if (typeof answer === "string") {
      this.#settle(entry, answer);
      return;
    }
    answer.then(
      (status) => {
        this.#settle(entry, status);
      },
      () => {
        this.#settle(entry, "unavailable");
      },
    );
  }

  #settle(entry: Entry, status: RevocationStatus): void {
    if (status === "active") return;
    // As at the start of a call, a feed that cannot vouch for the token fails closed.
    const revoked = status === "revoked-jti" || status === "revoked-subject" || status === "revoked-kid";
    this.#end(entry, revoked ? "ERR_TOKEN_REVOKED" : "ERR_REVOCATION_UNAVAILABLE");
  }
}
