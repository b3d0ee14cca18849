/**
 * Revocation propagation, measured across processes: subscriber processes (one service instance
 * each) hold cached tokens; they are revoked one at a time, each once every subscriber has
 * acknowledged the one before (the RevocationAcks an operator's tool counts), taking turns
 * between the ways of revoking given (the issuer's RPC, a direct publish); each process notes when
 * its verifier first rejected the token. A revocation is measured from the instant its call
 * returned (JetStream had stored the event) to each of those instants.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { revocationV1 } from "@trustmesh/proto";
import { REVOCATION_ACK_SUBJECTS } from "@trustmesh/revocation";
import { jwksOf, mintTestToken, newJti, TEST_AUDIENCE, TEST_ISSUER, TEST_SUBJECT, type TestSigningKey } from "@trustmesh/testing";
import { now, type Rejection } from "./revocation-protocol.js";
import { startSubscriber, type SubscriberProcess } from "./revocation-subscribers.js";

/** Ten tsx processes starting at once on two cores take a while; this only bounds a hang. */
const START_TIMEOUT_MS = 60_000;
const REPLY_TIMEOUT_MS = 10_000;
/** A revocation not applied everywhere within this fails the benchmark. */
const APPLY_TIMEOUT_MS = 5_000;
/** Between a revocation applied everywhere and the next, so each one finds every process idle. */
const GAP_MS = 5;
const PINGS = 20;
const TOKEN_LIFETIME_SEC = 600;

/** One way of revoking a token. */
export interface RevocationPath {
  readonly name: string;
  /** Resolves with the event's stream sequence once the event is stored. */
  revoke(target: { readonly jti: string; readonly sub: string; readonly exp: number }): Promise<number>;
}

export interface PropagationOptions {
  readonly natsUrl: string;
  readonly key: TestSigningKey;
  readonly subscribers: number;
  /** Unmeasured revocations first, the paths taking turns. */
  readonly warmup: number;
  /** Measured revocations per path. */
  readonly revocations: number;
  readonly paths: readonly RevocationPath[];
}

/** In milliseconds, ascending. */
export interface PathFigures {
  readonly name: string;
  /** Call return → first rejection, one per (measured revocation × subscriber). */
  readonly fromReturnMs: Float64Array;
  /** Call → first rejection: the same pairs, counting the call's own round trip too. */
  readonly fromCallMs: Float64Array;
  /** Call return → the last subscriber's rejection, one per measured revocation. */
  readonly everywhereMs: Float64Array;
  /** Call → return. */
  readonly callMs: Float64Array;
  /** Call return → the last subscriber's RevocationAck received here: what `trustctl revoke` reports. */
  readonly acknowledgedMs: Float64Array;
}

export interface PropagationFigures {
  readonly paths: readonly PathFigures[];
  /** The largest clock difference found between this process and a subscriber process, ms. */
  readonly clockOffsetMs: number;
  /** The smallest ping round trip the offsets were taken from, ms. */
  readonly pingRttMs: number;
  /** Each subscriber process's CPU time from arming to the end, per revocation (idle timers included), µs. */
  readonly cpuPerRevocationUs: readonly number[];
}

interface Revocation {
  readonly index: number;
  readonly path: string;
  readonly sequence: number;
  readonly called: number;
  readonly returned: number;
  readonly acknowledged: number;
}

export async function measurePropagation(options: PropagationOptions): Promise<PropagationFigures> {
  const children: SubscriberProcess[] = [];
  let acks: AckWatcher | undefined;
  try {
    acks = await AckWatcher.start(options.natsUrl);
    // The stream exists before the subscribers start, as it does once an issuer has run.
    await pathAt(options.paths, 0).revoke({ jti: newJti(), sub: TEST_SUBJECT, exp: Math.floor(Date.now() / 1000) + 60 });
    for (let i = 0; i < options.subscribers; i++) {
      children.push(startSubscriber(`subscriber ${i}`, {
        natsUrl: options.natsUrl,
        serviceId: "bench",
        instanceId: `bench-${i}`,
        issuer: TEST_ISSUER,
        audience: TEST_AUDIENCE,
        jwks: jwksOf(options.key),
      }));
    }
    await Promise.all(children.map((child) => child.reply("ready", START_TIMEOUT_MS)));

    const total = options.warmup + options.revocations * options.paths.length;
    const nowSec = Math.floor(Date.now() / 1000);
    const tokens: { jti: string; text: string }[] = [];
    for (let i = 0; i < total; i++) {
      const jti = newJti();
      tokens.push({ jti, text: await mintTestToken(options.key, { nowSec, lifetimeSec: TOKEN_LIFETIME_SEC, claims: { jti } }) });
    }
    for (const child of children) child.send({ type: "arm", tokens: tokens.map((token) => token.text) });
    const armed = await Promise.all(children.map((child) => child.reply("armed", REPLY_TIMEOUT_MS)));
    const clocks = [];
    for (const child of children) clocks.push(await clockOffset(child));

    const instances = children.map((child) => child.instanceId);
    const revocations: Revocation[] = [];
    for (const [index, token] of tokens.entries()) {
      const path = pathAt(options.paths, index);
      const called = now();
      const sequence = await path.revoke({ jti: token.jti, sub: TEST_SUBJECT, exp: nowSec + TOKEN_LIFETIME_SEC });
      const returned = now();
      const acknowledged = await acks.fromAll(sequence, instances, APPLY_TIMEOUT_MS);
      revocations.push({ index, path: path.name, sequence, called, returned, acknowledged });
      await sleep(GAP_MS);
    }

    for (const child of children) child.send({ type: "final" });
    const rejections: ReadonlyMap<number, Rejection>[] = [];
    const cpuPerRevocationUs: number[] = [];
    for (const [i, child] of children.entries()) {
      const final = await child.reply("final", REPLY_TIMEOUT_MS);
      if (final.revoked !== total || final.other.length > 0) {
        throw new Error(`${child.name}: ${final.revoked}/${total} tokens rejected as revoked at the end (also saw ${final.other.join(", ") || "nothing else"})`);
      }
      if (final.cacheMisses !== total) throw new Error(`${child.name}: ${final.cacheMisses} cache misses, expected one per token (${total})`);
      rejections.push(new Map(final.rejections.map((rejection) => [rejection.index, rejection])));
      cpuPerRevocationUs.push((final.cpuUs - (armed[i]?.cpuUs ?? Number.NaN)) / total);
    }
    const measured = revocations.slice(options.warmup);
    return {
      paths: options.paths.map((path) => figures(path.name, measured.filter((r) => r.path === path.name), rejections, children)),
      clockOffsetMs: Math.max(...clocks.map((clock) => Math.abs(clock.offsetMs))),
      pingRttMs: Math.min(...clocks.map((clock) => clock.rttMs)),
      cpuPerRevocationUs,
    };
  } finally {
    await Promise.all(children.map((child) => child.stop()));
    await acks?.close();
  }
}

/** Every measured revocation must have been seen rejected by every subscriber, after its event. */
function figures(name: string, revocations: readonly Revocation[], rejections: readonly ReadonlyMap<number, Rejection>[], children: readonly SubscriberProcess[]): PathFigures {
  const fromReturn: number[] = [];
  const fromCall: number[] = [];
  const everywhere: number[] = [];
  for (const revocation of revocations) {
    let last = Number.NEGATIVE_INFINITY;
    for (const [i, seen] of rejections.entries()) {
      const rejection = seen.get(revocation.index);
      const name = children[i]?.name ?? `subscriber ${i}`;
      if (rejection === undefined) throw new Error(`${name} acknowledged revocation ${revocation.index} but its verifier never rejected the token on a change`);
      if (rejection.sequence < revocation.sequence) {
        throw new Error(`${name} rejected token ${revocation.index} at sequence ${rejection.sequence}, before its event (${revocation.sequence})`);
      }
      fromReturn.push(rejection.at - revocation.returned);
      fromCall.push(rejection.at - revocation.called);
      last = Math.max(last, rejection.at);
    }
    everywhere.push(last - revocation.returned);
  }
  return {
    name,
    fromReturnMs: ascending(fromReturn),
    fromCallMs: ascending(fromCall),
    everywhereMs: ascending(everywhere),
    callMs: ascending(revocations.map((r) => r.returned - r.called)),
    acknowledgedMs: ascending(revocations.map((r) => r.acknowledged - r.returned)),
  };
}

/** Counts the subscribers' RevocationAcks per stream sequence, on a connection of its own. */
class AckWatcher {
  readonly #nc: NatsConnection;
  readonly #acks = new Map<number, { instances: Set<string>; last: number }>();
  readonly #waiters = new Set<() => void>();

  private constructor(nc: NatsConnection) {
    this.#nc = nc;
  }

  /** Subscribed, and the server knows it, once this resolves. */
  static async start(servers: string): Promise<AckWatcher> {
    const watcher = new AckWatcher(await connect({ servers, name: "bench-ack-watcher" }));
    watcher.#subscribe();
    await watcher.#nc.flush();
    return watcher;
  }

  #subscribe(): void {
    this.#nc.subscribe(REVOCATION_ACK_SUBJECTS, {
      callback: (error, message) => {
        if (error !== null) return;
        const ack = revocationV1.RevocationAck.decode(message.data);
        const entry = this.#acks.get(ack.streamSequence) ?? { instances: new Set<string>(), last: 0 };
        entry.instances.add(ack.instanceId);
        entry.last = now();
        this.#acks.set(ack.streamSequence, entry);
        for (const waiter of [...this.#waiters]) waiter();
      },
    });
  }

  /** Resolves with when the last of `instances` acknowledged `sequence`; rejects at the deadline, naming the missing. */
  fromAll(sequence: number, instances: readonly string[], timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(look);
        const acked = this.#acks.get(sequence)?.instances ?? new Set<string>();
        reject(new Error(`revocation at sequence ${sequence} not applied within ${timeoutMs} ms by ${instances.filter((id) => !acked.has(id)).join(", ")}`));
      }, timeoutMs);
      const look = (): void => {
        const entry = this.#acks.get(sequence);
        if (entry === undefined || !instances.every((id) => entry.instances.has(id))) return;
        clearTimeout(timer);
        this.#waiters.delete(look);
        resolve(entry.last);
      };
      this.#waiters.add(look);
      look();
    });
  }

  close(): Promise<void> {
    return this.#nc.close();
  }
}

function pathAt(paths: readonly RevocationPath[], index: number): RevocationPath {
  const path = paths[index % paths.length];
  if (path === undefined) throw new Error("no way of revoking was given");
  return path;
}

function ascending(values: readonly number[]): Float64Array {
  return Float64Array.from(values).sort();
}

/**
 * Both processes read the same wall clock, so the offset should be nil; measured anyway, NTP
 * style from the tightest of a few round trips, so the figures show it rather than assume it.
 */
async function clockOffset(child: SubscriberProcess): Promise<{ offsetMs: number; rttMs: number }> {
  let best = { offsetMs: Number.NaN, rttMs: Number.POSITIVE_INFINITY };
  for (let id = 0; id < PINGS; id++) {
    const sent = now();
    child.send({ type: "ping", id });
    const pong = await child.reply("pong", REPLY_TIMEOUT_MS);
    const received = now();
    if (pong.id !== id) throw new Error(`${child.name}: pong ${pong.id} for ping ${id}`);
    if (received - sent < best.rttMs) best = { offsetMs: pong.at - (sent + received) / 2, rttMs: received - sent };
  }
  return best;
}
