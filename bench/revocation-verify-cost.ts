/**
 * What a large denylist costs on the hot path: cached verifies through createVerifier({
 * revocation }) with a 1,000,000-entry Denylist against an empty one, in interleaved rounds. The
 * check is the subscriber's own (a freshness test on the clock, then Denylist.check), over a
 * Denylist filled directly: a million events through JetStream would take longer than the whole
 * benchmark. A live subscriber on the bench's NATS is measured beside them, for reference.
 */
import { randomBytes } from "node:crypto";
import { createRevocationSubscriber, DEFAULT_MAX_STALENESS_MS, Denylist } from "@trustmesh/revocation";
import { jwksOf, mintTestToken, newJti, TEST_AUDIENCE, TEST_ISSUER, type TestSigningKey } from "@trustmesh/testing";
import { createVerifier, VerifyError, type RevocationCheck, type RevocationQuery, type RevocationStatus, type Verifier } from "@trustmesh/verifier";
import { compare, type Measurement, type MeasureOptions } from "./lib/measure.js";
import type { Goal, ResultGroup } from "./lib/report.js";

/**
 * Distinct cached tokens (fewer than the verifier's 10,000-entry cache) the pool subjects take in
 * turn, as a service called by many instances does: the lookups then leave the CPU caches.
 */
const POOL_SIZE = 4096;
const HEARTBEAT_MS = 1_000;
const READY_TIMEOUT_MS = 10_000;
const MAX_RATIO = 1.05;

export interface VerifyCostOptions {
  readonly key: TestSigningKey;
  readonly natsUrl: string;
  readonly entries: number;
  readonly measure: MeasureOptions;
}

export async function measureVerifyCost(options: VerifyCostOptions): Promise<ResultGroup[]> {
  const nowSec = Math.floor(Date.now() / 1000);
  const token = await mintTestToken(options.key, { nowSec });
  const pool: string[] = [];
  for (let i = 0; i < POOL_SIZE; i++) pool.push(await mintTestToken(options.key, { nowSec }));
  const revokedJti = newJti();
  const revoked = await mintTestToken(options.key, { nowSec, claims: { jti: revokedJti } });

  const full = filledDenylist(options.entries, nowSec);
  full.revokeToken(revokedJti, nowSec + 600);
  if (full.size.tokens !== options.entries + 1) throw new Error(`the denylist holds ${full.size.tokens} entries, expected ${options.entries + 1}`);
  const emptyCheck = subscriberCheck(new Denylist());
  const fullCheck = subscriberCheck(full);
  const live = createRevocationSubscriber({ servers: options.natsUrl, serviceId: "bench-verify" });
  try {
    await within(live.ready(), "the live subscriber's replay", READY_TIMEOUT_MS);
    const verifierWith = (revocation: RevocationCheck): Verifier =>
      createVerifier({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwks: jwksOf(options.key), revocation });
    const empty = verifierWith(emptyCheck);
    const large = verifierWith(fullCheck);
    const subscribed = verifierWith(live);
    const emptyPool = verifierWith(emptyCheck);
    const largePool = verifierWith(fullCheck);

    // Each path once before timing, so a setup mistake fails here and not as a fast error path.
    for (const verifier of [empty, large, subscribed]) await verifier.verify(token);
    for (const verifier of [emptyPool, largePool]) for (const text of pool) await verifier.verify(text);
    await empty.verify(revoked);
    await expectRevoked(large, revoked);

    const sameToken = await compare(
      { name: "empty denylist", op: { kind: "async", run: () => empty.verify(token) } },
      [
        { name: `${options.entries.toLocaleString("en-US")} entries`, op: { kind: "async", run: () => large.verify(token) } },
        { name: `live subscriber (${live.denylistSize.tokens} entries)`, op: { kind: "async", run: () => subscribed.verify(token) } },
      ],
      options.measure,
    );
    const inTurn = await compare(
      { name: "empty denylist", op: { kind: "async", run: (i) => emptyPool.verify(pick(pool, i)) } },
      [{ name: `${options.entries.toLocaleString("en-US")} entries`, op: { kind: "async", run: (i) => largePool.verify(pick(pool, i)) } }],
      options.measure,
    );
    expectOnlyHits(large, 2, "the 1,000,000-entry verifier");
    expectOnlyHits(empty, 2, "the empty verifier");
    expectOnlyHits(subscribed, 1, "the live subscriber's verifier");
    expectOnlyHits(largePool, POOL_SIZE, "the 1,000,000-entry pool verifier");
    return [
      group("Cached verify, one token", sameToken, { denylist: `${options.entries} jtis` }),
      group(`Cached verify, ${POOL_SIZE} tokens in turn`, inTurn, { denylist: `${options.entries} jtis` }),
    ];
  } finally {
    emptyCheck.close();
    fullCheck.close();
    await live.close();
  }
}

function group(title: string, measurements: readonly Measurement[], details: Record<string, string>): ResultGroup {
  const [baseline, large, ...rest] = measurements;
  return {
    title,
    baseline: "empty",
    details,
    rows: [
      ...(baseline === undefined ? [] : [{ ...baseline, goal: undefined }]),
      ...(large === undefined ? [] : [{ ...large, goal: ratioGoal(large) }]),
      ...rest.map((m) => ({ ...m, goal: { description: "reference", met: undefined } satisfies Goal })),
    ],
  };
}

function ratioGoal(m: Measurement): Goal {
  return { description: `≤ ${MAX_RATIO}× empty`, met: m.ratio <= MAX_RATIO };
}

/**
 * The subscriber's check() over a denylist of our own: the same freshness test on the clock
 * (contact renewed as a fresh subscriber's heartbeats renew it), then Denylist.check.
 */
function subscriberCheck(denylist: Denylist): RevocationCheck & { close(): void } {
  let lastContactMs = Date.now();
  const heartbeat = setInterval(() => {
    lastContactMs = Date.now();
  }, HEARTBEAT_MS);
  heartbeat.unref();
  return {
    check: (token: RevocationQuery): RevocationStatus => (Date.now() - lastContactMs <= DEFAULT_MAX_STALENESS_MS ? denylist.check(token) : "unavailable"),
    close: () => {
      clearInterval(heartbeat);
    },
  };
}

/** `entries` random 22-character jtis, expiring over the next token lifetime. */
function filledDenylist(entries: number, nowSec: number): Denylist {
  const seed = randomBytes(16 * entries);
  const list = new Denylist();
  for (let i = 0; i < entries; i++) list.revokeToken(seed.toString("base64url", 16 * i, 16 * (i + 1)), nowSec + 60 + (i % 840));
  return list;
}

async function expectRevoked(verifier: Verifier, token: string): Promise<void> {
  try {
    await verifier.verify(token);
  } catch (error) {
    if (error instanceof VerifyError && error.code === "ERR_TOKEN_REVOKED") return;
    throw error;
  }
  throw new Error("a token on the 1,000,000-entry denylist was accepted");
}

/** A miss past the setup would mean a "cached" figure timed a full verification instead. */
function expectOnlyHits(verifier: Verifier, misses: number, name: string): void {
  const stats = verifier.cacheStats();
  if (stats.misses !== misses || stats.hits === 0) throw new Error(`${name}: expected ${misses} misses and only hits after, got ${JSON.stringify(stats)}`);
}

function pick(pool: readonly string[], i: number): string {
  return pool[i % pool.length] as string;
}

function within<T>(promise: Promise<T>, what: string, ms: number): Promise<T> {
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
