/**
 * What one issued token costs, part by part: the issuer's own modules timed in this process
 * (lib/measure.ts, each ratio against a whole TokenService.issue on the same store), the Redis
 * store's calls one at a time, and the server CPU of one IssueToken split by those parts.
 */
import { sign as cryptoSign, verify as cryptoVerify } from "node:crypto";
import { mintClientAssertion, type TestSigningKey } from "@trustmesh/testing";
import { importJwk, verifyCompactJws } from "@trustmesh/verifier/internal";
import type { JWTPayload } from "jose";
import { authenticateClient } from "../../services/issuer/src/auth/client-assertion.js";
import { KeyEncryptionKey } from "../../services/issuer/src/keys/key-encryption.js";
import { SigningKeys, type SigningKeysOptions } from "../../services/issuer/src/keys/signing-keys.js";
import { createMemoryStore, createRedisStore, newRefreshToken, type IssuerStore, type NewServiceIdentity, type ServiceIdentity } from "../../services/issuer/src/store/index.js";
import { decodeService, encodeService } from "../../services/issuer/src/store/service-identity.js";
import { TokenService } from "../../services/issuer/src/tokens/token-service.js";
import { compare, type Measurement, type MeasureOptions, type Subject } from "./measure.js";
import type { ResultGroup, TableGroup } from "./report.js";

export const BENCH_SERVICE = "bench-client";
export const BENCH_AUDIENCE = "bench-target";
export const BENCH_SCOPES: readonly string[] = ["bench:read"];
const ISSUER = "http://127.0.0.1:1";
/** Distinct assertions the in-process subjects cycle through; the jti is made unique per call. */
const POOL_SIZE = 256;
const ACCESS_TTL_SEC = 600;
const REFRESH_TTL_SEC = 86_400;

export function benchIdentity(key: TestSigningKey): NewServiceIdentity {
  return { id: BENCH_SERVICE, tenantId: "bench", keys: [key.publicJwk], audiences: { [BENCH_AUDIENCE]: ["bench:read", "bench:write"] } };
}

/** Server CPU per call from the load run, to split by the in-process figures. */
export interface LoadFigures {
  readonly echoServerUs: number;
  readonly issueMemoryServerUs: number;
  readonly issueRedisServerUs: number;
}

export async function breakdown(options: { key: TestSigningKey; redisUrl: string; measure: MeasureOptions; load: LoadFigures }): Promise<(ResultGroup | TableGroup)[]> {
  const { key } = options;
  const memory = createMemoryStore();
  const redis = createRedisStore({ url: options.redisUrl, keyPrefix: "bench-breakdown:" });
  const keysOptions: SigningKeysOptions = {
    store: memory,
    kek: KeyEncryptionKey.generate(),
    algorithm: "EdDSA",
    timing: { prePublishMs: 900_000, rotationIntervalMs: 86_400_000, tokenHorizonMs: 3_600_000 },
    checkIntervalMs: 60_000,
    now: Date.now,
  };
  const signingKeys = new SigningKeys(keysOptions);
  try {
    await redis.ready();
    await signingKeys.start();
    await memory.registerService(benchIdentity(key));
    await redis.registerService(benchIdentity(key));
    const identity = (await memory.getService(BENCH_SERVICE)) as ServiceIdentity;
    const pool: string[] = [];
    for (let i = 0; i < POOL_SIZE; i++) pool.push(await mintClientAssertion(key, { serviceId: BENCH_SERVICE, issuer: ISSUER }));
    const assertion = (i: number): string => pool[i % POOL_SIZE] as string;
    const tokens = (store: IssuerStore, signer: SigningKeys = signingKeys): TokenService =>
      new TokenService({ issuer: ISSUER, store: uniqueJtis(store), signingKeys: signer, accessTokenTtlSec: ACCESS_TTL_SEC, refreshTokenTtlSec: REFRESH_TTL_SEC, now: Date.now });
    const issue = (service: TokenService) => (i: number) => service.issue({ clientAssertion: assertion(i), audience: BENCH_AUDIENCE, scopes: BENCH_SCOPES });

    const verifyInput = splitJws(assertion(0));
    const importedKey = importJwk(key.publicJwk);
    if (!("key" in importedKey)) throw new Error(`the bench key does not import: ${importedKey.rejected}`);
    const claims = accessClaims();
    const header = Buffer.from(JSON.stringify({ alg: "EdDSA", kid: signingKeys.activeKid, typ: "at+jwt" })).toString("base64url");
    const json = encodeService(identity);
    const rules = { algorithms: new Set(["EdDSA"] as const), acceptType: () => true, requireLowS: false, findKey: () => importedKey.key };
    const authOptions = { issuer: ISSUER, now: Date.now, findService: () => Promise.resolve(identity), consumeJti: () => Promise.resolve(true) };

    const cpuParts: Subject[] = [
      { name: "authenticateClient (store stubbed)", op: { kind: "async", run: (i) => authenticateClient(assertion(i), authOptions) } },
      { name: "  importJwk of the client key (per call)", op: { kind: "sync", run: () => importJwk(key.publicJwk) } },
      { name: "  verifyCompactJws, key imported once", op: { kind: "async", run: (i) => verifyCompactJws(assertion(i), rules) } },
      { name: "  crypto.verify of the assertion (floor)", op: { kind: "sync", run: () => cryptoVerify(null, verifyInput.input, key.publicKey, verifyInput.signature) } },
      { name: "SigningKeys.sign (jose SignJWT)", op: { kind: "async", run: () => signingKeys.sign(claims) } },
      { name: "  crypto.sign of the same claims (floor)", op: { kind: "sync", run: () => signRaw(header, claims, key) } },
      { name: "TokenService.issue, signing by node:crypto (the cut)", op: { kind: "async", run: issue(tokens(memory, new CryptoSigningKeys(keysOptions, key))) } },
      { name: "memory store: getService + consumeJti + saveRefreshToken", op: { kind: "async", run: (i) => storeOps(memory, i) } },
      { name: "  decodeService (in every getService)", op: { kind: "sync", run: () => decodeService(json) } },
    ];
    const memoryIssue: Subject = { name: "TokenService.issue, memory store", op: { kind: "async", run: issue(tokens(memory)) } };
    const cpu = await compare(memoryIssue, cpuParts, { ...options.measure, clock: "cpu" });

    const seed = newRefreshToken();
    await redis.saveRefreshToken(seed.hash, refreshRecord(seed.familyId));
    const chain = { familyId: seed.familyId, hash: seed.hash };
    const redisParts: Subject[] = [
      { name: "getService of an unknown id (one HGET: the floor)", op: { kind: "async", run: () => unknownService(redis) } },
      { name: "getService (HGET + decode)", op: { kind: "async", run: () => redis.getService(BENCH_SERVICE) } },
      { name: "consumeAssertionJti (SET NX EX)", op: { kind: "async", run: (i) => redis.consumeAssertionJti(BENCH_SERVICE, `bd-${i}-${process.pid}`, nowSec() + 60) } },
      { name: "saveRefreshToken (EVALSHA)", op: { kind: "async", run: () => saveNew(redis) } },
      { name: "rotateRefreshToken (EVALSHA)", op: { kind: "async", run: () => rotateChain(redis, chain) } },
    ];
    const redisIssue: Subject = { name: "TokenService.issue, Redis store", op: { kind: "async", run: issue(tokens(redis)) } };
    const redisWall = await compare(redisIssue, redisParts, options.measure);
    const redisCpu = await compare(redisIssue, redisParts, { ...options.measure, clock: "cpu" });

    return [
      { title: "One issuance in-process, by part: CPU time per call (ratio: share of TokenService.issue)", baseline: "issue", details: { alg: "EdDSA" }, rows: cpu.map(informational) },
      redisTable(redisWall, redisCpu),
      cpuSplit(options.load, cpu, redisCpu),
    ];
  } finally {
    signingKeys.close();
    await memory.close();
    await redis.close();
  }

  async function storeOps(store: IssuerStore, i: number): Promise<void> {
    await store.getService(BENCH_SERVICE);
    if (!(await store.consumeAssertionJti(BENCH_SERVICE, `bd-${i}-${process.pid}`, nowSec() + 60))) throw new Error("a fresh jti was refused");
    await saveNew(store);
  }
}

/** The Redis store's calls one at a time: what each waits (round trip) and what it costs here. */
function redisTable(wall: readonly Measurement[], cpu: readonly Measurement[]): TableGroup {
  return {
    title: "Redis store, one call at a time, in-process",
    details: {},
    columns: [
      { key: "name", label: "call" },
      { key: "wallUs", label: "wall time (latency)", digits: 1, unit: "µs" },
      { key: "cpuUs", label: "issuer CPU", digits: 1, unit: "µs" },
    ],
    rows: wall.map((m, index) => ({ name: m.name, wallUs: m.medianNs / 1000, cpuUs: (cpu[index]?.medianNs ?? Number.NaN) / 1000 })),
  };
}

/** Where the server CPU of one IssueToken goes: the load run's figures split by the parts above. */
function cpuSplit(load: LoadFigures, parts: readonly Measurement[], redisCpu: readonly Measurement[]): TableGroup {
  const us = (list: readonly Measurement[], name: string): number => (list.find((m) => m.name.trim().startsWith(name))?.medianNs ?? Number.NaN) / 1000;
  const issue = us(parts, "TokenService.issue");
  const auth = us(parts, "authenticateClient");
  const signing = us(parts, "SigningKeys.sign");
  const store = us(parts, "memory store");
  const rows = [
    { part: "IssueToken (memory store), server CPU under load", us: load.issueMemoryServerUs },
    { part: "  TokenService.issue, in-process", us: issue },
    { part: "    assertion verification (authenticateClient)", us: auth },
    { part: "      Ed25519 verify itself", us: us(parts, "crypto.verify") },
    { part: "      importJwk, redone per call", us: us(parts, "importJwk") },
    { part: "    signing (SigningKeys.sign, jose)", us: signing },
    { part: "      Ed25519 sign itself", us: us(parts, "crypto.sign") },
    { part: "    memory store operations", us: store },
    { part: "    the rest (ids, refresh token, hashing, GC)", us: issue - auth - signing - store },
    { part: "  outside it: gRPC, interceptor, handler, codecs", us: load.issueMemoryServerUs - issue },
    { part: "    a bare grpc-js unary call (echo server)", us: load.echoServerUs },
    { part: "Redis store: issuer CPU of its 3 calls, in-process", us: us(redisCpu, "getService (") + us(redisCpu, "consumeAssertionJti") + us(redisCpu, "saveRefreshToken") },
    { part: "Redis store: issuer CPU under load, minus memory's", us: load.issueRedisServerUs - load.issueMemoryServerUs },
    { part: "cut: TokenService.issue signing by node:crypto", us: us(parts, "TokenService.issue, signing by") },
  ];
  return {
    title: "Server CPU of one IssueToken, by part (in-process CPU times set against the load run's)",
    details: {},
    columns: [
      { key: "part", label: "part" },
      { key: "us", label: "CPU/call", digits: 1, unit: "µs" },
      { key: "share", label: "share of IssueToken (memory)", digits: 0, unit: "%" },
    ],
    rows: rows.map((row) => ({ ...row, share: (100 * row.us) / load.issueMemoryServerUs })),
  };
}

/**
 * The signing cut, measured: what SigningKeys.sign does, by node:crypto directly instead of
 * jose's SignJWT (which signs through WebCrypto, a thread-pool job per token). Signs with the
 * bench key, an Ed25519 key like the issuer's, so the cost is the same.
 */
class CryptoSigningKeys extends SigningKeys {
  readonly #key: TestSigningKey;
  readonly #header: string;

  constructor(options: SigningKeysOptions, key: TestSigningKey) {
    super(options);
    this.#key = key;
    this.#header = Buffer.from(JSON.stringify({ alg: key.alg, kid: key.kid, typ: "at+jwt" })).toString("base64url");
  }

  override sign(claims: JWTPayload): Promise<{ token: string; kid: string }> {
    return Promise.resolve({ token: signRaw(this.#header, claims, this.#key), kid: this.#key.kid });
  }
}

let jtiSuffix = 0;

/** A store whose jti check still does its work, on a key made unique per call. */
function uniqueJtis(store: IssuerStore): IssuerStore {
  return { ...store, consumeAssertionJti: (clientId, jti, expiresAtSec) => store.consumeAssertionJti(clientId, `${jti}.${jtiSuffix++}`, expiresAtSec) };
}

async function saveNew(store: IssuerStore): Promise<void> {
  const token = newRefreshToken();
  await store.saveRefreshToken(token.hash, refreshRecord(token.familyId), { jti: `at-${token.familyId}`, exp: nowSec() + ACCESS_TTL_SEC });
}

async function rotateChain(store: IssuerStore, chain: { familyId: string; hash: string }): Promise<void> {
  const successor = newRefreshToken(chain.familyId);
  const result = await store.rotateRefreshToken({
    familyId: chain.familyId,
    oldHash: chain.hash,
    newHash: successor.hash,
    clientId: BENCH_SERVICE,
    expiresAtSec: nowSec() + REFRESH_TTL_SEC,
    accessToken: { jti: `at-${successor.hash.slice(0, 22)}`, exp: nowSec() + ACCESS_TTL_SEC },
  });
  if (result.outcome !== "rotated") throw new Error(`rotateRefreshToken: ${result.outcome}`);
  chain.hash = successor.hash;
}

function refreshRecord(familyId: string) {
  const at = nowSec();
  return { familyId, clientId: BENCH_SERVICE, audience: BENCH_AUDIENCE, scopes: BENCH_SCOPES, issuedAtSec: at, expiresAtSec: at + REFRESH_TTL_SEC };
}

/** getService of an id nobody registered: one HGET, nothing to decode. */
async function unknownService(store: IssuerStore): Promise<void> {
  if ((await store.getService("bench-nobody")) !== undefined) throw new Error("bench-nobody exists");
}

function accessClaims(): Record<string, string | number> {
  const iat = nowSec();
  return { iss: ISSUER, sub: BENCH_SERVICE, client_id: BENCH_SERVICE, aud: BENCH_AUDIENCE, iat, nbf: iat, exp: iat + ACCESS_TTL_SEC, jti: "AAAAAAAAAAAAAAAAAAAAAA", scope: BENCH_SCOPES.join(" "), tenant_id: "bench" };
}

/** What a jose-free signer does: one JSON.stringify, base64url, Ed25519. */
function signRaw(header: string, claims: Readonly<Record<string, unknown>>, key: TestSigningKey): string {
  const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
  return `${input}.${cryptoSign(null, Buffer.from(input), key.privateKey).toString("base64url")}`;
}

function splitJws(token: string): { input: Buffer; signature: Buffer } {
  const end = token.lastIndexOf(".");
  return { input: Buffer.from(token.slice(0, end)), signature: Buffer.from(token.slice(end + 1), "base64url") };
}

function informational(m: Measurement) {
  return { ...m, goal: undefined };
}

function nowSec(): number {
  return Math.floor(Date.now() / 1000);
}
