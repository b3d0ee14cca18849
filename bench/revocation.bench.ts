/**
 * Revocation, issue 5's three figures. Propagation: from the return of the issuer's RevokeToken
 * RPC (it answers once JetStream has stored the event), and of a direct publish, taking turns,
 * until each of 10 subscriber processes first rejects the token, p50 and p99 over 200
 * revocations each (goal: p99 under 10 ms).
 * Memory: heap bytes per entry of a 1,000,000-entry Denylist with expiries, against a bare
 * Map<string, number> of the same entries (goal: under 80 B), and just past the size where V8's
 * table doubles. Verify cost: a cached verify with a 1,000,000-entry denylist as a ratio to an
 * empty one (goal: at most 1.05), for one token and for many callers' tokens in turn.
 */
import { execFile } from "node:child_process";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createRevocationPublisher } from "@trustmesh/revocation";
import { generateTestKey, startNats } from "@trustmesh/testing";
import { quantile, median } from "./lib/load.js";
import type { MeasureOptions } from "./lib/measure.js";
import type { Benchmark, ResultGroup, TableColumn, TableGroup } from "./lib/report.js";
import { startRevokingIssuer } from "./revocation-issuer.js";
import { measurePropagation, type PathFigures, type PropagationFigures, type RevocationPath } from "./revocation-propagation.js";
import type { MemoryResult } from "./revocation-protocol.js";
import { measureVerifyCost } from "./revocation-verify-cost.js";

const SUBSCRIBERS = 10;
const WARMUP_REVOCATIONS = 20;
const REVOCATIONS = 200;
const PROPAGATION_P99_GOAL_MS = 10;
const ENTRIES = 1_000_000;
/** Just past a doubling of V8's hash table: the worst case for bytes per entry near ENTRIES. */
const ENTRIES_PAST_GROWTH = 2 ** 20 + 1;
const MEMORY_ROUNDS = 3;
const BYTES_GOAL = 80;
/** CPU time, not wall time: the machine is shared, and a verify never waits. */
const MEASURE: MeasureOptions = { warmupMs: 300, roundMs: 60, rounds: 31, clock: "cpu" };
const MEMORY_SCRIPT = fileURLToPath(new URL("./revocation-memory-process.ts", import.meta.url));
const MEMORY_TIMEOUT_MS = 60_000;
const RPC_PATH = "RevokeToken";
const PUBLISH_PATH = "publish";
const AUDIT = { reason: "benchmark", actor: "bench@trustmesh" } as const;
const ANCHORS = "10 s (polling); 20 min (JWKS refresh, for a dropped key); never (SPIRE JWT-SVID, Istio, offline Kubernetes verifiers: valid until exp)";

const benchmark: Benchmark = {
  description: "propagation to 10 subscriber processes, denylist bytes per entry, verify cost at 1,000,000 entries",
  measure: MEASURE,
  async run() {
    const loadAverage = loadavg().map((load) => load.toFixed(2)).join(" ");
    const key = await generateTestKey("EdDSA");
    const nats = await startNats();
    const publisher = createRevocationPublisher({ servers: nats.url });
    let propagation: PropagationFigures;
    let verifyCost: ResultGroup[];
    try {
      const issuer = await startRevokingIssuer(nats.url);
      try {
        const paths: RevocationPath[] = [
          { name: RPC_PATH, revoke: (target) => issuer.revokeToken(target) },
          { name: PUBLISH_PATH, revoke: async (target) => (await publisher.revokeToken({ ...target, ...AUDIT })).sequence },
        ];
        propagation = await measurePropagation({ natsUrl: nats.url, key, subscribers: SUBSCRIBERS, warmup: WARMUP_REVOCATIONS, revocations: REVOCATIONS, paths });
      } finally {
        await issuer.stop();
      }
      verifyCost = await measureVerifyCost({ key, natsUrl: nats.url, entries: ENTRIES, measure: MEASURE });
    } finally {
      await publisher.close();
      await nats.dispose();
    }
    const memory = [await measureMemory(ENTRIES, MEMORY_ROUNDS), await measureMemory(ENTRIES_PAST_GROWTH, 1)];
    return [propagationTable(propagation, loadAverage), memoryTable(memory), ...verifyCost];
  },
};

export default benchmark;

const PROPAGATION_COLUMNS: readonly TableColumn[] = [
  { key: "name", label: "interval" },
  { key: "count", label: "samples" },
  { key: "p50Ms", label: "p50", digits: 2, unit: "ms" },
  { key: "p99Ms", label: "p99", digits: 2, unit: "ms" },
  { key: "maxMs", label: "max", digits: 2, unit: "ms" },
  { key: "minMs", label: "min", digits: 2, unit: "ms" },
  { key: "goal", label: "goal" },
  { key: "met", label: "" },
];

function propagationTable(figures: PropagationFigures, loadAverage: string): TableGroup {
  return {
    title: `Propagation to ${SUBSCRIBERS} subscriber processes (loopback, JetStream file store; negative: rejected before the caller had read its answer)`,
    details: {
      revocations: `${REVOCATIONS} per way (+${WARMUP_REVOCATIONS} warm-up), one at a time, RevokeToken and publish taking turns`,
      "subscriber CPU/revocation": `${median(figures.cpuPerRevocationUs).toFixed(0)} µs`,
      "clock offset between processes": `≤ ${(figures.clockOffsetMs * 1000).toFixed(0)} µs (ping RTT ${(figures.pingRttMs * 1000).toFixed(0)} µs)`,
      "load average at start": loadAverage,
      anchors: ANCHORS,
    },
    columns: PROPAGATION_COLUMNS,
    rows: figures.paths.flatMap((path) => pathRows(path)),
  };
}

function pathRows(path: PathFigures): Record<string, string | number>[] {
  const row = (name: string, sorted: Float64Array, goal?: number): Record<string, string | number> => {
    const p99 = quantile(sorted, 0.99);
    return {
      name: `${path.name} ${name}`,
      count: sorted.length,
      p50Ms: quantile(sorted, 0.5),
      p99Ms: p99,
      maxMs: sorted[sorted.length - 1] ?? Number.NaN,
      minMs: sorted[0] ?? Number.NaN,
      goal: goal === undefined ? "informational" : `p99 < ${goal} ms`,
      met: goal === undefined ? "" : p99 < goal ? "met" : "MISSED",
    };
  };
  const rows = [
    row("return → rejected, each (revocation × subscriber)", path.fromReturnMs, PROPAGATION_P99_GOAL_MS),
    row(`return → rejected by all ${SUBSCRIBERS}`, path.everywhereMs),
    row("call → rejected, each pair", path.fromCallMs),
    row("call → return", path.callMs),
  ];
  // What trustctl revoke reports: the RPC, then every instance's acknowledgement.
  if (path.name === RPC_PATH) rows.splice(2, 0, row(`return → ${SUBSCRIBERS}th RevocationAck received`, path.acknowledgedMs));
  return rows;
}

const MEMORY_COLUMNS: readonly TableColumn[] = [
  { key: "name", label: "structure" },
  { key: "entries", label: "entries" },
  { key: "bytes", label: "heap/entry", digits: 1, unit: "B" },
  { key: "ratio", label: "× bare map", digits: 3, unit: "×" },
  { key: "goal", label: "goal" },
  { key: "met", label: "" },
];

function memoryTable(results: readonly MemoryResult[]): TableGroup {
  const rows = results.flatMap((result, index) => {
    const map = median(result.mapBytesPerEntry);
    const denylist = median(result.denylistBytesPerEntry);
    const goal = index === 0 ? { goal: `< ${BYTES_GOAL} B`, met: denylist < BYTES_GOAL ? "met" : "MISSED" } : { goal: "informational", met: "" };
    return [
      { name: "bare Map<string, number>", entries: result.entries, bytes: map, ratio: 1, goal: "", met: "" },
      { name: "Denylist, jti + expiry", entries: result.entries, bytes: denylist, ratio: denylist / map, ...goal },
    ];
  });
  return {
    title: "Denylist heap per entry (heapUsed after gc, keys included)",
    details: {
      jti: `${results[0]?.jtiLength ?? 0} characters`,
      rounds: `${MEMORY_ROUNDS} at ${ENTRIES}, median; 1 at ${ENTRIES_PAST_GROWTH} (just past a hash table doubling)`,
    },
    columns: MEMORY_COLUMNS,
    rows,
  };
}

/** In a process of its own, with --expose-gc, so nothing else on the heap blurs the figure. */
async function measureMemory(entries: number, rounds: number): Promise<MemoryResult> {
  const args = ["--expose-gc", "--conditions=trustmesh-source", "--import", "tsx", MEMORY_SCRIPT, String(entries), String(rounds)];
  const { stdout } = await promisify(execFile)(process.execPath, args, { timeout: MEMORY_TIMEOUT_MS, maxBuffer: 1 << 20 });
  return JSON.parse(stdout) as MemoryResult;
}
