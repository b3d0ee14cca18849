import { randomUUID } from "node:crypto";
import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { revocationV1 } from "@trustmesh/proto";
import { ensureRevocationStream, resolveStreamOptions, type RevocationStreamOptions } from "./ensure-revocation-stream.js";
import { RevocationError } from "./errors.js";
import { ManagedConnection, type NatsTarget } from "./lib/connection.js";
import { toUnavailable } from "./lib/nats-errors.js";
import { fail, requireFunction, requireInteger, requireString } from "./lib/validate.js";
import { SILENT_LOGGER, type RevocationLogger } from "./logger.js";
import { REVOCATION_STREAM, revocationSubject, type RevocationKind } from "./subjects.js";

/** How long a revocation may wait for JetStream to store it before it fails loudly. */
export const DEFAULT_PUBLISH_TIMEOUT_MS = 2_000;
const MAX_ID_LENGTH = 256;
const MAX_REASON_LENGTH = 1024;
const MAX_EVENT_ID_LENGTH = 128;

export interface RevocationPublisherOptions extends NatsTarget, RevocationStreamOptions {
  /** Deadline for the whole publish, PubAck included. */
  readonly publishTimeoutMs?: number;
  /** Create or update the stream at start and before the first publish (the issuer does); default true. */
  readonly ensureStream?: boolean;
  /** Milliseconds since the epoch; injectable so tests can freeze time. */
  readonly now?: () => number;
  readonly logger?: RevocationLogger;
}

/** Who revoked and why, for audit; `eventId` only to retry a publish that failed. */
export interface RevocationAudit {
  readonly reason: string;
  readonly actor: string;
  readonly eventId?: string;
}

export interface RevokeTokenInput extends RevocationAudit {
  readonly jti: string;
  readonly sub: string;
  /** The token's `exp`, in epoch seconds. */
  readonly exp: number;
}

export interface RevokeSubjectInput extends RevocationAudit {
  readonly sub: string;
  /** Tokens of `sub` with `iat` before this (epoch seconds, not in the future) are revoked. */
  readonly issuedBefore: number;
}

export interface RevokeKeyInput extends RevocationAudit {
  readonly kid: string;
}

export interface PublishedRevocation {
  readonly eventId: string;
  /** The event's sequence in TRUSTMESH_REVOCATIONS. */
  readonly sequence: number;
  /** The stream already held this event id: it was stored once, earlier. */
  readonly duplicate: boolean;
}

/**
 * Each method resolves only once JetStream has stored the event (its PubAck), and otherwise
 * rejects with ERR_REVOCATION_UNAVAILABLE: a revocation is never dropped quietly.
 */
export interface RevocationPublisher {
  revokeToken(input: RevokeTokenInput): Promise<PublishedRevocation>;
  revokeSubject(input: RevokeSubjectInput): Promise<PublishedRevocation>;
  revokeKey(input: RevokeKeyInput): Promise<PublishedRevocation>;
  close(): Promise<void>;
}

export function createRevocationPublisher(options: RevocationPublisherOptions): RevocationPublisher {
  return new Publisher(options);
}

type Target = NonNullable<revocationV1.RevocationEvent["target"]>;

class Publisher implements RevocationPublisher {
  readonly #stream: ReturnType<typeof resolveStreamOptions>;
  readonly #timeoutMs: number;
  readonly #ensureStream: boolean;
  readonly #now: () => number;
  readonly #connection: ManagedConnection;
  #ensured: Promise<unknown> | undefined;
  #closed = false;

  constructor(options: RevocationPublisherOptions) {
    if (typeof options !== "object" || options === null) fail("ERR_REVOCATION_OPTIONS", "options", "must be an object");
    this.#stream = resolveStreamOptions(options);
    this.#timeoutMs = requireInteger("ERR_REVOCATION_OPTIONS", "publishTimeoutMs", options.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS, 1, 60_000);
    this.#ensureStream = options.ensureStream ?? true;
    if (typeof this.#ensureStream !== "boolean") fail("ERR_REVOCATION_OPTIONS", "ensureStream", "must be a boolean");
    this.#now = requireFunction("now", options.now, Date.now);
    const logger = options.logger ?? SILENT_LOGGER;
    if (typeof logger.warn !== "function") fail("ERR_REVOCATION_OPTIONS", "logger", "must have a warn(fields, message) method");
    this.#connection = new ManagedConnection(options, "trustmesh-revocation-publisher", logger);
    // At once, so subscribers started beside a fresh issuer find the stream; a failure here is
    // forgotten and retried by the first publish.
    if (this.#ensureStream) {
      this.#connection.connection().then((nc) => this.#ensure(nc)).catch(() => undefined);
    }
  }

  revokeToken(input: RevokeTokenInput): Promise<PublishedRevocation> {
    return this.#publish("token", input, () => {
      const exp = requireInteger("ERR_REVOCATION_INVALID", "exp", input.exp, 0);
      // Past this, no token issued so far can carry it, and the event would leave the stream
      // (max_age) while the token still verified. An exp in milliseconds lands here too.
      if (exp > this.#nowSec() + this.#stream.maxTokenLifetimeSec) {
        fail("ERR_REVOCATION_INVALID", "exp", "is later than now + maxTokenLifetimeSec (is it in seconds?)");
      }
      const value = { jti: requireId("jti", input.jti), sub: requireId("sub", input.sub), expUnix: exp };
      return { $case: "token", value };
    });
  }

  revokeSubject(input: RevokeSubjectInput): Promise<PublishedRevocation> {
    return this.#publish("subject", input, () => {
      const sub = requireId("sub", input.sub);
      // A future cut-off would name tokens that outlive the event in the stream.
      const issuedBefore = requireInteger("ERR_REVOCATION_INVALID", "issuedBefore", input.issuedBefore, 0, this.#nowSec());
      const value = { sub, issuedBeforeUnix: issuedBefore, expiresAtUnix: issuedBefore + this.#stream.maxTokenLifetimeSec };
      return { $case: "subject", value };
    });
  }

  revokeKey(input: RevokeKeyInput): Promise<PublishedRevocation> {
    return this.#publish("key", input, () => {
      const value = { kid: requireId("kid", input.kid), expiresAtUnix: this.#nowSec() + this.#stream.maxTokenLifetimeSec };
      return { $case: "signingKey", value };
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#connection.close();
  }

  /** Rounded up, so that "issued before now" covers tokens minted earlier in this second. */
  #nowSec(): number {
    return Math.ceil(this.#now() / 1000);
  }

  async #publish(kind: RevocationKind, input: RevocationAudit, target: () => Target): Promise<PublishedRevocation> {
    if (typeof input !== "object" || input === null) fail("ERR_REVOCATION_INVALID", "input", "must be an object");
    const event: revocationV1.RevocationEvent = {
      id: input.eventId === undefined ? randomUUID() : requireString("ERR_REVOCATION_INVALID", "eventId", input.eventId, MAX_EVENT_ID_LENGTH),
      target: target(),
      reason: requireString("ERR_REVOCATION_INVALID", "reason", input.reason, MAX_REASON_LENGTH),
      actor: requireId("actor", input.actor),
      revokedAtUnixMs: this.#now(),
    };
    if (this.#closed) throw new RevocationError("ERR_REVOCATION_CLOSED", "the publisher is closed", { eventId: event.id });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new RevocationError("ERR_REVOCATION_UNAVAILABLE", `JetStream did not store the revocation within ${this.#timeoutMs} ms`, { eventId: event.id }));
      }, this.#timeoutMs);
    });
    try {
      return await Promise.race([this.#store(kind, event), deadline]);
    } catch (error) {
      // The stream may be what is missing (deleted, or a new server): set it up again next time.
      this.#ensured = undefined;
      throw toUnavailable(error, "JetStream did not store the revocation", event.id);
    } finally {
      clearTimeout(timer);
    }
  }

  async #store(kind: RevocationKind, event: revocationV1.RevocationEvent): Promise<PublishedRevocation> {
    await this.#connection.settled();
    // Known to be disconnected: say so now rather than at the deadline. (A publish buffered for
    // a reconnect that does not come in time fails by the deadline instead.)
    if (this.#connection.state === "down") {
      throw new RevocationError("ERR_REVOCATION_UNAVAILABLE", "NATS is not connected; the revocation was not stored", { eventId: event.id });
    }
    const nc = await this.#connection.connection();
    if (this.#ensureStream) await this.#ensure(nc);
    const ack = await jetstream(nc, { timeout: this.#timeoutMs }).publish(
      revocationSubject(kind),
      revocationV1.RevocationEvent.encode(event).finish(),
      { msgID: event.id, timeout: this.#timeoutMs, expect: { streamName: REVOCATION_STREAM } },
    );
    return { eventId: event.id, sequence: ack.seq, duplicate: ack.duplicate };
  }

  /** Once per publisher; a failure is forgotten so the next publish tries again. */
  #ensure(nc: NatsConnection): Promise<unknown> {
    this.#ensured ??= (async () => {
      const jsm: JetStreamManager = await jetstreamManager(nc, { checkAPI: false, timeout: this.#timeoutMs });
      return ensureRevocationStream(jsm, this.#stream);
    })().catch((error: unknown) => {
      this.#ensured = undefined;
      throw error;
    });
    return this.#ensured;
  }
}

function requireId(field: string, value: unknown): string {
  return requireString("ERR_REVOCATION_INVALID", field, value, MAX_ID_LENGTH);
}
