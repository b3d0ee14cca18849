/**
 * The issuer under load over loopback, against a bare grpc-js unary service with the same
 * messages: IssueToken and RefreshToken, each on the embedded memory store and on Redis, 32
 * calls in flight. Every server runs in a process of its own, so its CPU per call is its own;
 * the load generator here only pre-mints client assertions (single-use, one per call) before
 * each round and sends them. Then what one issuance costs, part by part, timed in-process, and
 * what it asks of Redis, counted with MONITOR.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, credentials, Metadata } from "@grpc/grpc-js";
import { ADMIN_SCOPE, type AdminKeyFile } from "@trustmesh/issuer";
import { adminV1, issuerV1 } from "@trustmesh/proto";
import { generateTestKey, mintClientAssertion, startRedis, type RedisServer, type TestSigningKey } from "@trustmesh/testing";
import { Redis } from "ioredis";
import { importJWK, SignJWT } from "jose";
import { BENCH_AUDIENCE, BENCH_SCOPES, BENCH_SERVICE, benchIdentity, breakdown, type LoadFigures } from "./lib/issuer-breakdown.js";
import { median, quantile, runLoad, unaryCall } from "./lib/load.js";
import { ECHO_SERVICE } from "./lib/load-protocol.js";
import type { MeasureOptions } from "./lib/measure.js";
import { countRedisCommands } from "./lib/redis-commands.js";
import type { Benchmark, TableColumn, TableGroup } from "./lib/report.js";
import { startServerProcess, type ServerProcess } from "./lib/server-process.js";

const CONCURRENCY = 32;
/** Odd, so the median round is a measured one; workloads take turns, in alternating order. */
const ROUNDS = 7;
const CALLS_PER_ROUND = 1024;
const WARMUP_CALLS = 512;
const CALL_DEADLINE_MS = 10_000;
const ROUND_DEADLINE_MS = 60_000;
/** For the in-process breakdown (lib/measure.ts). */
const MEASURE: MeasureOptions = { warmupMs: 200, roundMs: 40, rounds: 11 };

type CallFn = (i: number, worker: number) => Promise<void>;

interface Workload {
  readonly name: string;
  readonly server: ServerProcess;
  readonly redis: boolean;
  /** Untimed: everything a round of `calls` needs, single-use assertions included. */
  prepare(calls: number): Promise<CallFn>;
}

interface RoundFigures {
  readonly callsPerSec: number;
  readonly serverUs: number;
  readonly clientUs: number;
  readonly redisUs: number;
}

const benchmark: Benchmark = {
  description: "IssueToken and RefreshToken over loopback, 32 in flight, against a bare grpc-js unary call",
  measure: MEASURE,
  async run() {
    const dir = await mkdtemp(join(tmpdir(), "trustmesh-bench-issuer-"));
    const cleanup: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })];
    try {
      const redis = await startRedis();
      cleanup.unshift(() => redis.stop());
      const kekFile = join(dir, "kek");
      await writeFile(kekFile, randomBytes(32).toString("base64"), { mode: 0o600 });
      const issuerEnv = (name: string): Record<string, string> => ({
        TRUSTMESH_GRPC_ADDRESS: "127.0.0.1:0",
        TRUSTMESH_HTTP_ADDRESS: "127.0.0.1:0",
        TRUSTMESH_ADMIN_KEY_FILE: join(dir, `${name}-admin-key.json`),
        TRUSTMESH_LOG_LEVEL: "silent",
      });
      const [memory, redisBacked] = await Promise.all([
        startServerProcess("issuer-memory", { kind: "issuer", env: issuerEnv("memory") }),
        startServerProcess("issuer-redis", { kind: "issuer", env: { ...issuerEnv("redis"), TRUSTMESH_REDIS_URL: redis.url, TRUSTMESH_KEK_FILE: kekFile } }),
      ]);
      cleanup.unshift(() => memory.stop(), () => redisBacked.stop());
      const key = await generateTestKey("EdDSA");
      const memoryClient = connect(memory, cleanup);
      const redisClient = connect(redisBacked, cleanup);
      await registerBenchService(memoryClient, join(dir, "memory-admin-key.json"), key);
      await registerBenchService(redisClient, join(dir, "redis-admin-key.json"), key);

      // The echo answers with a real issuer response, so both carry the same bytes.
      const sample = await issue(memoryClient, key, memory.issuer);
      const echo = await startServerProcess("echo", { kind: "echo", response: sample });
      cleanup.unshift(() => echo.stop());
      const echoClient = connect(echo, cleanup);
      const echoRequest = issueRequest(await mintClientAssertion(key, { serviceId: BENCH_SERVICE, issuer: memory.issuer }));

      const workloads: Workload[] = [
        echoWorkload(echo, echoClient, echoRequest),
        issueWorkload("IssueToken, memory", memory, memoryClient, key, false),
        issueWorkload("IssueToken, Redis", redisBacked, redisClient, key, true),
        await refreshWorkload("RefreshToken, memory", memory, memoryClient, key, false),
        await refreshWorkload("RefreshToken, Redis", redisBacked, redisClient, key, true),
      ];
      const load = await measureLoad(workloads, redis);
      const sizes = {
        request: `${issuerV1.IssueTokenRequest.encode(echoRequest).finish().length} B`,
        response: `${issuerV1.TokenResponse.encode(sample).finish().length} B`,
      };
      const redisCommands = await countRedisCommands(redis.url, {
        issue: () => issue(redisClient, key, redisBacked.issuer),
        refresh: (refreshToken) => refresh(redisClient, key, redisBacked.issuer, refreshToken),
      });
      return [loadTable(load, sizes), redisCommands, ...(await breakdown({ key, redisUrl: redis.url, measure: MEASURE, load: loadFigures(load) }))];
    } finally {
      for (const step of cleanup) await step().catch(() => undefined);
    }
  },
};

export default benchmark;

async function measureLoad(workloads: readonly Workload[], redis: RedisServer): Promise<Map<Workload, { rounds: RoundFigures[]; latenciesNs: Float64Array[] }>> {
  const info = new Redis(redis.url);
  try {
    const results = new Map(workloads.map((w) => [w, { rounds: [] as RoundFigures[], latenciesNs: [] as Float64Array[] }]));
    for (const workload of workloads) {
      await runLoad({ calls: WARMUP_CALLS, concurrency: CONCURRENCY, call: await workload.prepare(WARMUP_CALLS), deadlineMs: ROUND_DEADLINE_MS });
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const workload of round % 2 === 0 ? workloads : [...workloads].reverse()) {
        const call = await workload.prepare(CALLS_PER_ROUND);
        const server0 = await workload.server.cpuUs();
        const redis0 = workload.redis ? await redisCpuUs(info) : 0;
        const client0 = process.cpuUsage();
        const run = await runLoad({ calls: CALLS_PER_ROUND, concurrency: CONCURRENCY, call, deadlineMs: ROUND_DEADLINE_MS });
        const client = process.cpuUsage(client0);
        const server = (await workload.server.cpuUs()) - server0;
        const redisUs = workload.redis ? (await redisCpuUs(info)) - redis0 : 0;
        const result = results.get(workload);
        result?.latenciesNs.push(run.latenciesNs);
        result?.rounds.push({
          callsPerSec: run.calls / (run.elapsedNs / 1e9),
          serverUs: server / run.calls,
          clientUs: (client.user + client.system) / run.calls,
          redisUs: redisUs / run.calls,
        });
      }
    }
    return results;
  } finally {
    info.disconnect();
  }
}

const LOAD_COLUMNS: readonly TableColumn[] = [
  { key: "name", label: "workload" },
  { key: "callsPerSec", label: "calls/s", digits: 0 },
  { key: "p50Ms", label: "p50", digits: 2, unit: "ms" },
  { key: "p99Ms", label: "p99", digits: 2, unit: "ms" },
  { key: "serverUs", label: "server CPU/call", digits: 1, unit: "µs" },
  { key: "redisUs", label: "redis-server CPU/call", digits: 1, unit: "µs" },
  { key: "clientUs", label: "client CPU/call", digits: 1, unit: "µs" },
  { key: "throughputRatio", label: "calls/s × echo", digits: 2, unit: "×" },
  { key: "cpuRatio", label: "server CPU × echo", digits: 2, unit: "×" },
];

function loadTable(load: Map<Workload, { rounds: RoundFigures[]; latenciesNs: Float64Array[] }>, sizes: Record<string, string>): TableGroup {
  const rows = [...load].map(([workload, { rounds, latenciesNs }]) => {
    const sorted = Float64Array.from(latenciesNs.flatMap((run) => [...run])).sort();
    return {
      name: workload.name,
      callsPerSec: median(rounds.map((r) => r.callsPerSec)),
      p50Ms: quantile(sorted, 0.5) / 1e6,
      p99Ms: quantile(sorted, 0.99) / 1e6,
      serverUs: median(rounds.map((r) => r.serverUs)),
      ...(workload.redis ? { redisUs: median(rounds.map((r) => r.redisUs)) } : {}),
      clientUs: median(rounds.map((r) => r.clientUs)),
    };
  });
  const echo = rows[0];
  return {
    title: "Load over loopback (servers in their own processes)",
    details: { "in flight": CONCURRENCY, rounds: ROUNDS, "calls/round": CALLS_PER_ROUND, "request": sizes["request"] ?? "", "response": sizes["response"] ?? "" },
    columns: LOAD_COLUMNS,
    rows: rows.map((row) => ({
      ...row,
      throughputRatio: row.callsPerSec / (echo?.callsPerSec ?? Number.NaN),
      cpuRatio: row.serverUs / (echo?.serverUs ?? Number.NaN),
    })),
  };
}

function loadFigures(load: Map<Workload, { rounds: RoundFigures[] }>): LoadFigures {
  const cpu = (name: string): number => {
    for (const [workload, { rounds }] of load) if (workload.name === name) return median(rounds.map((r) => r.serverUs));
    return Number.NaN;
  };
  return { echoServerUs: cpu("bare unary (echo)"), issueMemoryServerUs: cpu("IssueToken, memory"), issueRedisServerUs: cpu("IssueToken, Redis") };
}

function echoWorkload(server: ServerProcess, client: Client, request: issuerV1.IssueTokenRequest): Workload {
  const call: CallFn = async () => {
    await unaryCall(client, ECHO_SERVICE.echo, request, { deadlineMs: CALL_DEADLINE_MS });
  };
  return { name: "bare unary (echo)", server, redis: false, prepare: () => Promise.resolve(call) };
}

function issueWorkload(name: string, server: ServerProcess, client: Client, key: TestSigningKey, redis: boolean): Workload {
  return {
    name,
    server,
    redis,
    async prepare(calls) {
      const assertions = await mintAssertions(key, server.issuer, calls);
      return async (i) => {
        expectTokens(await unaryCall(client, issuerV1.TokenIssuerService.issueToken, issueRequest(assertions[i] ?? ""), { deadlineMs: CALL_DEADLINE_MS }));
      };
    },
  };
}

/** One refresh chain per worker: each call spends the chain's token and keeps its successor. */
async function refreshWorkload(name: string, server: ServerProcess, client: Client, key: TestSigningKey, redis: boolean): Promise<Workload> {
  const chains: string[] = [];
  for (let worker = 0; worker < CONCURRENCY; worker++) chains.push((await issue(client, key, server.issuer)).refreshToken);
  return {
    name,
    server,
    redis,
    async prepare(calls) {
      const assertions = await mintAssertions(key, server.issuer, calls);
      return async (i, worker) => {
        const request = { clientAssertion: assertions[i] ?? "", refreshToken: chains[worker] ?? "" };
        const response = await unaryCall(client, issuerV1.TokenIssuerService.refreshToken, request, { deadlineMs: CALL_DEADLINE_MS });
        expectTokens(response);
        chains[worker] = response.refreshToken;
      };
    },
  };
}

function connect(server: ServerProcess, cleanup: (() => Promise<unknown>)[]): Client {
  const client = new Client(server.address, credentials.createInsecure());
  cleanup.unshift(() => {
    client.close();
    return Promise.resolve();
  });
  return client;
}

async function mintAssertions(key: TestSigningKey, issuer: string, count: number): Promise<string[]> {
  const assertions: string[] = [];
  for (let i = 0; i < count; i++) assertions.push(await mintClientAssertion(key, { serviceId: BENCH_SERVICE, issuer }));
  return assertions;
}

function issueRequest(clientAssertion: string): issuerV1.IssueTokenRequest {
  return { clientAssertion, audience: BENCH_AUDIENCE, scopes: [...BENCH_SCOPES] };
}

async function issue(client: Client, key: TestSigningKey, issuer: string): Promise<issuerV1.TokenResponse> {
  const clientAssertion = await mintClientAssertion(key, { serviceId: BENCH_SERVICE, issuer });
  return expectTokens(await unaryCall(client, issuerV1.TokenIssuerService.issueToken, issueRequest(clientAssertion), { deadlineMs: CALL_DEADLINE_MS }));
}

async function refresh(client: Client, key: TestSigningKey, issuer: string, refreshToken: string): Promise<issuerV1.TokenResponse> {
  const clientAssertion = await mintClientAssertion(key, { serviceId: BENCH_SERVICE, issuer });
  return expectTokens(await unaryCall(client, issuerV1.TokenIssuerService.refreshToken, { clientAssertion, refreshToken }, { deadlineMs: CALL_DEADLINE_MS }));
}

function expectTokens(response: issuerV1.TokenResponse): issuerV1.TokenResponse {
  if (response.accessToken.split(".").length !== 3 || response.refreshToken === "") throw new Error("the issuer answered without an access token and a refresh token");
  return response;
}

/** Through the admin API, as trustctl does: an admin token from the bootstrap key file first. */
async function registerBenchService(client: Client, adminKeyFile: string, key: TestSigningKey): Promise<void> {
  const admin = JSON.parse(await readFile(adminKeyFile, "utf8")) as AdminKeyFile;
  const alg = String(admin.privateJwk["alg"]);
  const nowSec = Math.floor(Date.now() / 1000);
  const clientAssertion = await new SignJWT({ iss: admin.serviceId, sub: admin.serviceId, aud: admin.issuer, iat: nowSec, exp: nowSec + 30, jti: randomBytes(16).toString("base64url") })
    .setProtectedHeader({ alg, kid: String(admin.privateJwk["kid"]), typ: "JWT" })
    .sign(await importJWK(admin.privateJwk, alg));
  const adminToken = await unaryCall(client, issuerV1.TokenIssuerService.issueToken, { clientAssertion, audience: admin.audience, scopes: [ADMIN_SCOPE] }, { deadlineMs: CALL_DEADLINE_MS });
  const metadata = new Metadata();
  metadata.set("authorization", `Bearer ${adminToken.accessToken}`);
  const identity = benchIdentity(key);
  const request: adminV1.RegisterServiceRequest = {
    id: identity.id,
    tenantId: identity.tenantId,
    keys: [{ kty: "OKP", crv: "Ed25519", x: String(key.publicJwk.x), kid: key.kid, alg: key.alg, use: "sig" }],
    audiences: Object.entries(identity.audiences).map(([audience, scopes]) => ({ audience, scopes: [...scopes] })),
  };
  await unaryCall(client, adminV1.IssuerAdminService.registerService, request, { deadlineMs: CALL_DEADLINE_MS, metadata });
}

/** used_cpu_user + used_cpu_sys of the redis-server process, in microseconds. */
async function redisCpuUs(client: Redis): Promise<number> {
  const text = await client.info("cpu");
  const field = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(text)?.[1] ?? Number.NaN);
  return (field("used_cpu_user") + field("used_cpu_sys")) * 1e6;
}
