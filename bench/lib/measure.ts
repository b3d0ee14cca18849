/**
 * Micro-benchmarks compared with a baseline measured in the same run. Every subject is warmed up
 * and calibrated to a fixed iteration count, then the subjects take turns round by round (in
 * alternating order), so drift and noise from the machine fall on all of them alike. A round's
 * cost is taken per operation; a subject reports the median and the minimum over its rounds, and
 * its ratio is its median over the baseline's median.
 */

/** `run(i)` does operation number `i`, so a subject can cycle through a pool of inputs. */
export type Operation =
  | { readonly kind: "sync"; readonly run: (i: number) => void }
  | { readonly kind: "async"; readonly run: (i: number) => Promise<unknown> };

export interface Subject {
  readonly name: string;
  readonly op: Operation;
}

export interface MeasureOptions {
  /** Time each subject runs before measurement, also used to calibrate its iteration count. */
  readonly warmupMs: number;
  /** The target duration of one round; sets the fixed iteration count. */
  readonly roundMs: number;
  /** Rounds per subject; odd, so the median is one measured round. */
  readonly rounds: number;
  /** "wall" (the default) times elapsed time; "cpu" this process's CPU time (every thread), for
   *  costs that must not count waiting or other processes on a busy machine. */
  readonly clock?: "wall" | "cpu";
}

export interface Measurement {
  readonly name: string;
  readonly iterations: number;
  readonly rounds: number;
  readonly medianNs: number;
  readonly minNs: number;
  /** This subject's median over the baseline's median, from the same interleaved rounds. */
  readonly ratio: number;
}

/** Measures the baseline and the candidates, interleaved; the baseline comes first in the result. */
export async function compare(baseline: Subject, candidates: readonly Subject[], options: MeasureOptions): Promise<Measurement[]> {
  const subjects = [baseline, ...candidates];
  const runs = [];
  for (const subject of subjects) {
    const calibrated = await calibrate(subject.op, options, clockOf(options));
    runs.push({ subject, ...calibrated, samples: [] as number[] });
  }
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 === 0 ? runs : [...runs].reverse();
    for (const run of order) {
      const ns = await timeRound(run.subject.op, run.iterations, run.next, clockOf(options));
      run.next += run.iterations;
      run.samples.push(ns / run.iterations);
    }
  }
  const baselineMedian = median(runs[0]?.samples ?? []);
  return runs.map((run) => {
    const medianNs = median(run.samples);
    return {
      name: run.subject.name,
      iterations: run.iterations,
      rounds: options.rounds,
      medianNs,
      minNs: Math.min(...run.samples),
      ratio: medianNs / baselineMedian,
    };
  });
}

/** Runs `op` in doubling batches for the warm-up time; the last batch sets the iteration count. */
async function calibrate(op: Operation, options: MeasureOptions, clock: () => bigint): Promise<{ iterations: number; next: number }> {
  const warmupNs = options.warmupMs * 1e6;
  let batch = 1;
  let next = 0;
  let spentNs = 0;
  let lastNsPerOp = Number.POSITIVE_INFINITY;
  while (spentNs < warmupNs) {
    const ns = await timeRound(op, batch, next, clock);
    next += batch;
    spentNs += ns;
    lastNsPerOp = ns / batch;
    if (ns < warmupNs / 8) batch *= 2;
  }
  return { iterations: Math.max(1, Math.round((options.roundMs * 1e6) / lastNsPerOp)), next };
}

async function timeRound(op: Operation, iterations: number, first: number, clock: () => bigint): Promise<number> {
  const end = first + iterations;
  if (op.kind === "sync") {
    const run = op.run;
    const start = clock();
    for (let i = first; i < end; i++) run(i);
    return Number(clock() - start);
  }
  const run = op.run;
  const start = clock();
  for (let i = first; i < end; i++) await run(i);
  return Number(clock() - start);
}

function clockOf(options: MeasureOptions): () => bigint {
  return options.clock === "cpu" ? cpuClock : () => process.hrtime.bigint();
}

/** Microsecond resolution: rounds of a few milliseconds or more keep it negligible. */
function cpuClock(): bigint {
  const { user, system } = process.cpuUsage();
  return BigInt(user + system) * 1000n;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length % 2 === 1) return sorted[middle] as number;
  return ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
