/**
 * Revocation, issue 5's three figures. Propagation: from the publish's return (JetStream has
 * stored the event; the issuer's RevokeToken answers right after) until each of 10 subscriber
 * processes first rejects the token, p50 and p99 over 200 revocations (goal: p99 under 10 ms).
 * Memory: heap bytes per entry of a 1,000,000-entry Denylist with expiries, against a bare
 * Map<string, number> of the same entries (goal: under 80 B), and just past the size where V8's
 * table doubles. Verify cost: a cached verify with a 1,000,000-entry denylist as a ratio to an
 * empty one (goal: at most 1.05), for one token and for many callers' tokens in turn.
 */
import { execFile } from "node:child_process";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { generateTestKey, startNats } from "@trustmesh/testing";
import { quantile, median } from "./lib/load.js";
import type { MeasureOptions } from "./lib/measure.js";
import type { Benchmark, ResultGroup, TableColumn, TableGroup } from "./lib/report.js";
import { measurePropagation, type PropagationFigures } from "./revocation-propagation.js";
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
const MEASURE: MeasureOptions = { warmupMs: 300, roundMs: 60, rounds: 21, clock: "cpu" };
const MEMORY_SCRIPT = fileURLToPath(new URL("./revocation-memory-process.ts", import.meta.url));
const MEMORY_TIMEOUT_MS = 60_000;
const ANCHORS = "10 s (polling); 20 min (JWKS refresh, for a dropped key); never (SPIRE JWT-SVID, Istio, offline Kubernetes verifiers: valid until exp)";

const benchmark: Benchmark = {
  description: "propagation to 10 subscriber processes, denylist bytes per entry, verify cost at 1,000,000 entries",
  measure: MEASURE,
  async run() {
    const loadAverage = loadavg().map((load) => load.toFixed(2)).join(" ");
    const key = await generateTestKey("EdDSA");
    const nats = await startNats();
    let propagation: PropagationFigures;
    let verifyCost: ResultGroup[];
    try {
      propagation = await measurePropagation({ natsUrl: nats.url, key, subscribers: SUBSCRIBERS, warmup: WARMUP_REVOCATIONS, revocations: REVOCATIONS });
      verifyCost = await measureVerifyCost({ key, natsUrl: nats.url, entries: ENTRIES, measure: MEASURE });
    } finally {
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
  const row = (name: string, sorted: Float64Array): Record<string, string | number> => ({
    name,
    count: sorted.length,
    p50Ms: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
    maxMs: sorted[sorted.length - 1] ?? Number.NaN,
    minMs: sorted[0] ?? Number.NaN,
  });
  const applied = row("publish return → rejected, each (revocation × subscriber)", figures.fromReturnMs);
  const p99 = Number(applied["p99Ms"]);
  return {
    title: `Propagation to ${SUBSCRIBERS} subscriber processes (loopback, JetStream file store; negative: rejected before the PubAck was read)`,
    details: {
      revocations: `${REVOCATIONS} (+${WARMUP_REVOCATIONS} warm-up), one at a time`,
      "subscriber CPU/revocation": `${median(figures.cpuPerRevocationUs).toFixed(0)} µs`,
      "clock offset between processes": `≤ ${(figures.clockOffsetMs * 1000).toFixed(0)} µs (ping RTT ${(figures.pingRttMs * 1000).toFixed(0)} µs)`,
      "load average at start": loadAverage,
      anchors: ANCHORS,
    },
    columns: PROPAGATION_COLUMNS,
    rows: [
      { ...applied, goal: `p99 < ${PROPAGATION_P99_GOAL_MS} ms`, met: p99 < PROPAGATION_P99_GOAL_MS ? "met" : "MISSED" },
      { ...row(`publish return → rejected by all ${SUBSCRIBERS}`, figures.everywhereMs), goal: "informational", met: "" },
      { ...row("publish call → rejected, each pair", figures.fromCallMs), goal: "informational", met: "" },
      { ...row(`publish return → ${SUBSCRIBERS}th RevocationAck received`, figures.acknowledgedMs), goal: "informational", met: "" },
      { ...row("publish call → return (PubAck)", figures.publishMs), goal: "informational", met: "" },
    ],
  };
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
