/**
 * @trustmesh/verifier against its floor, a raw node:crypto verify of the same signing input with
 * the same key and signature, for each algorithm: a cold verify (cache off, every rule applied),
 * a cached verify with and without a revocation list, and jose.jwtVerify for reference. The goals
 * are issue 2's: cold at most 1.3× the floor, cached under 3 µs.
 */
import { verify as cryptoVerify } from "node:crypto";
import { importJWK, jwtVerify } from "jose";
import { generateTestKey, jwksOf, mintTestToken, newJti, TEST_AUDIENCE, TEST_ISSUER, type TestAlgorithm, type TestSigningKey } from "@trustmesh/testing";
import { createVerifier, InMemoryRevocationList, type ServiceClaims, type Verifier } from "@trustmesh/verifier";
import { compare, type Measurement, type MeasureOptions, type Subject } from "./lib/measure.js";
import type { Benchmark, Goal, ResultGroup } from "./lib/report.js";

const ALGORITHMS: readonly TestAlgorithm[] = ["EdDSA", "ES256"];
const MEASURE: MeasureOptions = { warmupMs: 300, roundMs: 60, rounds: 21 };
/** Distinct valid tokens the uncached subjects cycle through, so nothing can be memoised. */
const POOL_SIZE = 256;
/** Entries on the revocation list (none of them ours), so a lookup is not against empty sets. */
const REVOKED_ENTRIES = 1000;
const COLD_MAX_RATIO = 1.3;
const CACHED_MAX_NS = 3000;

interface Token {
  readonly text: string;
  readonly signingInput: Buffer;
  readonly signature: Buffer;
}

const benchmark: Benchmark = {
  description: "verify(token) against a raw crypto.verify of the same signing input",
  measure: MEASURE,
  async run() {
    const groups: ResultGroup[] = [];
    for (const alg of ALGORITHMS) groups.push(await benchAlgorithm(alg));
    return groups;
  },
};

export default benchmark;

async function benchAlgorithm(alg: TestAlgorithm): Promise<ResultGroup> {
  const key = await generateTestKey(alg);
  const nowSec = Math.floor(Date.now() / 1000);
  const pool: Token[] = [];
  for (let i = 0; i < POOL_SIZE; i++) pool.push(splitToken(await mintTestToken(key, { nowSec })));
  const first = pick(pool, 0);

  const options = { issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwks: jwksOf(key) };
  const cold = createVerifier({ ...options, cacheMaxEntries: 0 });
  const cached = createVerifier(options);
  const cachedRevocable = createVerifier({ ...options, revocation: revocationListSparing(key) });
  const joseKey = await importJWK(key.publicJwk, alg);
  const joseOptions = { typ: "at+jwt", issuer: TEST_ISSUER, audience: TEST_AUDIENCE, algorithms: [alg] };

  // Each path once before timing, so a setup mistake fails here and not as a fast error path.
  for (const token of pool) expectAccepted(await cold.verify(token.text), token);
  expectAccepted(await cached.verify(first.text), first);
  expectAccepted(await cachedRevocable.verify(first.text), first);
  await jwtVerify(first.text, joseKey, joseOptions);

  const floor = rawVerify(key);
  const baseline: Subject = {
    name: "floor: crypto.verify",
    op: {
      kind: "sync",
      run: (i) => {
        if (!floor(pick(pool, i))) throw new Error(`raw ${alg} crypto.verify rejected a pool token`);
      },
    },
  };
  const cases: readonly (Subject & { readonly goal: (m: Measurement) => Goal })[] = [
    { name: "cold verify (cache off)", op: { kind: "async", run: (i) => cold.verify(pick(pool, i).text) }, goal: coldGoal },
    { name: "cached verify", op: { kind: "async", run: () => cached.verify(first.text) }, goal: cachedGoal },
    { name: "cached verify + revocation", op: { kind: "async", run: () => cachedRevocable.verify(first.text) }, goal: cachedGoal },
    {
      name: "jose.jwtVerify",
      op: { kind: "async", run: (i) => jwtVerify(pick(pool, i).text, joseKey, joseOptions) },
      goal: () => ({ description: "informational", met: undefined }),
    },
  ];
  const [floorResult, ...results] = await compare(baseline, cases, MEASURE);
  expectOnlyHits(cached, "cached verify");
  expectOnlyHits(cachedRevocable, "cached verify + revocation");

  return {
    title: alg,
    baseline: "floor",
    details: { "signing input": `${first.signingInput.length} B`, token: `${first.text.length} B`, "cold pool": `${POOL_SIZE} tokens` },
    rows: [
      ...(floorResult === undefined ? [] : [{ ...floorResult, goal: undefined }]),
      ...results.map((m, index) => ({ ...m, goal: cases[index]?.goal(m) })),
    ],
  };
}

function coldGoal(m: Measurement): Goal {
  return { description: `≤ ${COLD_MAX_RATIO}× floor`, met: m.ratio <= COLD_MAX_RATIO };
}

function cachedGoal(m: Measurement): Goal {
  return { description: `< ${CACHED_MAX_NS / 1000} µs`, met: m.medianNs < CACHED_MAX_NS };
}

/** The floor: node:crypto on the token's own signing input bytes and signature, nothing else. */
function rawVerify(key: TestSigningKey): (token: Token) => boolean {
  if (key.alg === "EdDSA") return (token) => cryptoVerify(null, token.signingInput, key.publicKey, token.signature);
  const ecKey = { key: key.publicKey, dsaEncoding: "ieee-p1363" } as const;
  return (token) => cryptoVerify("sha256", token.signingInput, ecKey, token.signature);
}

function revocationListSparing(key: TestSigningKey): InMemoryRevocationList {
  const list = new InMemoryRevocationList();
  for (let i = 0; i < REVOKED_ENTRIES; i++) list.revokeToken(newJti()).revokeSubject(`service-${i}`, Math.floor(Date.now() / 1000));
  return list.revokeKey(`not-${key.kid}`);
}

function splitToken(text: string): Token {
  const lastDot = text.lastIndexOf(".");
  return {
    text,
    signingInput: Buffer.from(text.slice(0, lastDot), "latin1"),
    signature: Buffer.from(text.slice(lastDot + 1), "base64url"),
  };
}

function pick(pool: readonly Token[], i: number): Token {
  return pool[i % pool.length] as Token;
}

function expectAccepted(claims: ServiceClaims, token: Token): void {
  const [, payload = ""] = token.text.split(".");
  const jti: unknown = (JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>).jti;
  if (claims.jti !== jti) throw new Error("verify returned the claims of another token");
}

/** A miss would mean the "cached" figure timed the full verification instead. */
function expectOnlyHits(verifier: Verifier, name: string): void {
  const stats = verifier.cacheStats();
  if (stats.misses !== 1 || stats.hits === 0) throw new Error(`${name}: expected one miss and only hits, got ${JSON.stringify(stats)}`);
}
