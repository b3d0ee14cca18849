/**
 * The auth interceptor under load over loopback. One echo server process runs three grpc-js
 * servers with the same unary service and handler: one bare, two behind createAuthInterceptor (a
 * static-JWKS verifier, requireScopes on the method), and this process calls them with 64 calls
 * in flight. Workloads take turns round by round, in alternating order: bare; the interceptor with
 * the verifier's cache warm (one token for every call); the interceptor cold (a fresh token on
 * every call, minted before the round); and bare without a token, to show what carrying one costs.
 * The bare baseline is sent the warm token too, which it ignores, so that the interceptor is the
 * only difference. Each round's figures are taken against the bare round beside it. The goals are
 * issue 4's: warm at least 0.95× the bare throughput and at most 1.15× its server CPU per call.
 */
import { Client, credentials, Metadata, status } from "@grpc/grpc-js";
import type { issuerV1 } from "@trustmesh/proto";
import { generateTestKey, jwksOf, mintTestToken, profileClaims, profileHeader, signRawToken, type TestSigningKey } from "@trustmesh/testing";
import { ECHO_SCOPE, type EchoServerCpu } from "./grpc-protocol.js";
import { startEchoServerProcess, type EchoServerProcess } from "./grpc-server-process.js";
import { median, quantile, runLoad, unaryCall } from "./lib/load.js";
import { ECHO_SERVICE } from "./lib/load-protocol.js";
import type { MeasureOptions } from "./lib/measure.js";
import type { Benchmark, TableColumn, TableGroup } from "./lib/report.js";

const CONCURRENCY = 64;
/** Odd, so the median round is a measured one; workloads take turns, in alternating order. */
const ROUNDS = 31;
const CALLS_PER_ROUND = 1024;
const WARMUP_CALLS = 2048;
const CALL_DEADLINE_MS = 10_000;
const ROUND_DEADLINE_MS = 30_000;
/** Outlives the run; the verifier accepts at most 900 s. */
const TOKEN_LIFETIME_SEC = 600;
const WARM_MIN_THROUGHPUT_RATIO = 0.95;
const WARM_MAX_CPU_RATIO = 1.15;
/** Every round is a load run; lib/measure.ts is not used, so only the round count applies. */
const MEASURE: MeasureOptions = { warmupMs: 0, roundMs: 0, rounds: ROUNDS };

type CallFn = (i: number) => Promise<void>;

interface Workload {
  readonly name: string;
  /** Whose verifier cache counts every call, as a hit (warm) or a miss (cold); a round that differs is refused. */
  readonly expectedCache: "none" | "warm" | "cold";
  readonly goal: (row: LoadRow) => { description: string; met: boolean | undefined } | undefined;
  /** Untimed: everything a round of `calls` needs, fresh tokens included. */
  prepare(calls: number): Promise<CallFn>;
}

interface RoundFigures {
  readonly callsPerSec: number;
  readonly serverUs: number;
  readonly clientUs: number;
}

interface LoadRow {
  readonly name: string;
  readonly callsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly serverUs: number;
  readonly clientUs: number;
  readonly throughputRatio: number;
  readonly cpuRatio: number;
}

const REQUEST: issuerV1.IssueTokenRequest = { clientAssertion: "", audience: "payments", scopes: [ECHO_SCOPE] };

const benchmark: Benchmark = {
  description: "unary echo over loopback, 64 in flight: bare grpc-js against the auth interceptor, cache warm and cold",
  measure: MEASURE,
  async run() {
    const cleanup: (() => Promise<unknown>)[] = [];
    try {
      const key = await generateTestKey("EdDSA");
      const server = await startEchoServerProcess({ jwks: jwksOf(key) });
      cleanup.unshift(() => server.stop());
      const bare = connect(server.bareAddress, cleanup);
      const warm = connect(server.warmAddress, cleanup);
      const cold = connect(server.coldAddress, cleanup);
      const warmToken = await mintTestToken(key, { lifetimeSec: TOKEN_LIFETIME_SEC });
      await checkServers(bare, [warm, cold], key);

      const workloads: Workload[] = [
        {
          name: "bare grpc-js",
          expectedCache: "none",
          goal: () => undefined,
          prepare: () => Promise.resolve(() => call(bare, warmToken)),
        },
        {
          name: "interceptor, cache warm",
          expectedCache: "warm",
          goal: (row) => ({
            description: `≥ ${WARM_MIN_THROUGHPUT_RATIO}× calls/s, ≤ ${WARM_MAX_CPU_RATIO}× CPU`,
            met: row.throughputRatio >= WARM_MIN_THROUGHPUT_RATIO && row.cpuRatio <= WARM_MAX_CPU_RATIO,
          }),
          prepare: () => Promise.resolve(() => call(warm, warmToken)),
        },
        {
          name: "interceptor, cold (fresh token)",
          expectedCache: "cold",
          goal: () => ({ description: "reported", met: undefined }),
          prepare(calls) {
            const tokens = mintTokens(key, calls);
            return Promise.resolve((i) => call(cold, tokens[i] ?? ""));
          },
        },
        {
          name: "bare grpc-js, no token sent",
          expectedCache: "none",
          goal: () => ({ description: "informational", met: undefined }),
          prepare: () => Promise.resolve(() => call(bare)),
        },
      ];
      return [await measureLoad(server, workloads)];
    } finally {
      for (const step of cleanup) await step().catch(() => undefined);
    }
  },
};

export default benchmark;

async function measureLoad(server: EchoServerProcess, workloads: readonly Workload[]): Promise<TableGroup> {
  const results = new Map(workloads.map((w) => [w, { rounds: [] as RoundFigures[], latenciesNs: [] as Float64Array[] }]));
  for (const workload of workloads) {
    await runLoad({ calls: WARMUP_CALLS, concurrency: CONCURRENCY, call: await workload.prepare(WARMUP_CALLS), deadlineMs: ROUND_DEADLINE_MS });
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const workload of round % 2 === 0 ? workloads : [...workloads].reverse()) {
      const call = await workload.prepare(CALLS_PER_ROUND);
      const before = await server.cpu();
      const client0 = process.cpuUsage();
      const run = await runLoad({ calls: CALLS_PER_ROUND, concurrency: CONCURRENCY, call, deadlineMs: ROUND_DEADLINE_MS });
      const client = process.cpuUsage(client0);
      const after = await server.cpu();
      expectCache(workload, before, after, run.calls);
      const result = results.get(workload);
      result?.latenciesNs.push(run.latenciesNs);
      result?.rounds.push({
        callsPerSec: run.calls / (run.elapsedNs / 1e9),
        serverUs: (after.cpuUs - before.cpuUs) / run.calls,
        clientUs: (client.user + client.system) / run.calls,
      });
    }
  }
  const bareRounds = results.get(workloads[0] as Workload)?.rounds ?? [];
  const rows = [...results].map(([workload, { rounds, latenciesNs }]) => {
    const sorted = Float64Array.from(latenciesNs.flatMap((run) => [...run])).sort();
    // Each round against the bare round of the same turn, so drift on the machine cancels out.
    const throughputRatios = rounds.map((r, i) => r.callsPerSec / (bareRounds[i]?.callsPerSec ?? Number.NaN));
    const cpuRatios = rounds.map((r, i) => r.serverUs / (bareRounds[i]?.serverUs ?? Number.NaN));
    const row: LoadRow = {
      name: workload.name,
      callsPerSec: median(rounds.map((r) => r.callsPerSec)),
      p50Ms: quantile(sorted, 0.5) / 1e6,
      p99Ms: quantile(sorted, 0.99) / 1e6,
      serverUs: median(rounds.map((r) => r.serverUs)),
      clientUs: median(rounds.map((r) => r.clientUs)),
      throughputRatio: median(throughputRatios),
      cpuRatio: median(cpuRatios),
    };
    const goal = workload.goal(row);
    return {
      ...row,
      cpuRatioRange: workload === workloads[0] ? "" : `${Math.min(...cpuRatios).toFixed(2)}–${Math.max(...cpuRatios).toFixed(2)}`,
      goal: goal?.description ?? "",
      verdict: goal?.met === undefined ? "" : goal.met ? "met" : "MISSED",
    };
  });
  return {
    title: "Unary echo over loopback (server in its own process)",
    details: { "in flight": CONCURRENCY, rounds: ROUNDS, "calls/round": CALLS_PER_ROUND, key: "EdDSA" },
    columns: LOAD_COLUMNS,
    rows,
  };
}

const LOAD_COLUMNS: readonly TableColumn[] = [
  { key: "name", label: "workload" },
  { key: "callsPerSec", label: "calls/s", digits: 0 },
  { key: "p50Ms", label: "p50", digits: 2, unit: "ms" },
  { key: "p99Ms", label: "p99", digits: 2, unit: "ms" },
  { key: "serverUs", label: "server CPU/call", digits: 1, unit: "µs" },
  { key: "clientUs", label: "client CPU/call", digits: 1, unit: "µs" },
  { key: "throughputRatio", label: "calls/s × bare", digits: 2, unit: "×" },
  { key: "cpuRatio", label: "server CPU × bare", digits: 2, unit: "×" },
  { key: "cpuRatioRange", label: "CPU × bare, rounds" },
  { key: "goal", label: "goal" },
  { key: "verdict", label: "" },
];

async function call(client: Client, token?: string): Promise<void> {
  const metadata = new Metadata();
  if (token !== undefined) metadata.set("authorization", `Bearer ${token}`);
  await unaryCall(client, ECHO_SERVICE.echo, REQUEST, { deadlineMs: CALL_DEADLINE_MS, metadata });
}

/** The interceptors must be there and enforcing; the warm-up then shows that valid calls pass. */
async function checkServers(bare: Client, authenticated: readonly Client[], key: TestSigningKey): Promise<void> {
  const unscoped = await mintTestToken(key, { claims: { scope: "payments:refund" } });
  for (const auth of authenticated) {
    await expectStatus(call(auth), status.UNAUTHENTICATED, "a call without a token");
    await expectStatus(call(auth, unscoped), status.PERMISSION_DENIED, `a token without ${ECHO_SCOPE}`);
  }
  await call(bare);
}

async function expectStatus(pending: Promise<void>, code: status, what: string): Promise<void> {
  const outcome = await pending.then(
    () => "OK",
    (error: unknown) => (typeof error === "object" && error !== null && "code" in error ? error.code : error),
  );
  if (outcome !== code) throw new Error(`the interceptor answered ${what} with ${String(outcome)}, not ${status[code]}`);
}

function expectCache(workload: Workload, before: EchoServerCpu, after: EchoServerCpu, calls: number): void {
  const counted = [
    after.warmCache.hits - before.warmCache.hits,
    after.warmCache.misses - before.warmCache.misses,
    after.coldCache.hits - before.coldCache.hits,
    after.coldCache.misses - before.coldCache.misses,
  ];
  const expected = { none: [0, 0, 0, 0], warm: [calls, 0, 0, 0], cold: [0, 0, 0, calls] }[workload.expectedCache];
  if (counted.some((count, i) => count !== expected[i])) {
    const [warmHits, warmMisses, coldHits, coldMisses] = counted;
    throw new Error(`${workload.name}: in ${calls} calls the warm cache counted ${warmHits} hits, ${warmMisses} misses; the cold one ${coldHits} hits, ${coldMisses} misses`);
  }
}

/** Tokens exactly as mintTestToken makes them, signed directly: a third of jose's minting time. */
function mintTokens(key: TestSigningKey, count: number): string[] {
  const header = profileHeader(key);
  return Array.from({ length: count }, () => signRawToken(key, header, profileClaims({ lifetimeSec: TOKEN_LIFETIME_SEC })));
}

function connect(address: string, cleanup: (() => Promise<unknown>)[]): Client {
  const client = new Client(address, credentials.createInsecure());
  cleanup.unshift(() => {
    client.close();
    return Promise.resolve();
  });
  return client;
}
