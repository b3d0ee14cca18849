/**
 * What a benchmark module hands back, and the table it is printed as. Goals are reported, never
 * enforced: a benchmark fails only when an operation under measurement fails.
 */
import type { Measurement, MeasureOptions } from "./measure.js";

export interface Goal {
  readonly description: string;
  /** Undefined for a figure that is only informational. */
  readonly met: boolean | undefined;
}

export interface ResultRow extends Measurement {
  readonly goal: Goal | undefined;
}

export interface ResultGroup {
  readonly title: string;
  /** The row every ratio in the group is relative to. */
  readonly baseline: string;
  readonly details: Readonly<Record<string, string | number>>;
  readonly rows: readonly ResultRow[];
}

export interface Benchmark {
  readonly description: string;
  readonly measure: MeasureOptions;
  run(): Promise<readonly ResultGroup[]>;
}

export function formatGroup(group: ResultGroup): string {
  const details = Object.entries(group.details)
    .map(([name, value]) => `${name} ${value}`)
    .join(", ");
  const header = ["case", "median", "min", `× ${group.baseline}`, "goal", ""];
  const body = group.rows.map((row) => [
    row.name,
    formatNs(row.medianNs),
    formatNs(row.minNs),
    formatRatio(row.ratio),
    row.goal?.description ?? "",
    row.goal === undefined || row.goal.met === undefined ? "" : row.goal.met ? "met" : "MISSED",
  ]);
  const widths = header.map((cell, column) => Math.max(cell.length, ...body.map((line) => (line[column] ?? "").length)));
  const numeric = new Set([1, 2, 3]);
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (numeric.has(column) ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0)))
      .join("  ")
      .trimEnd();
  const rule = widths.map((width) => "-".repeat(width)).join("  ");
  return [`${group.title}${details === "" ? "" : `  (${details})`}`, line(header), rule, ...body.map(line)].join("\n");
}

function formatRatio(ratio: number): string {
  return `${ratio < 0.1 ? ratio.toPrecision(2) : ratio.toFixed(2)}×`;
}

function formatNs(ns: number): string {
  return `${(ns / 1000).toFixed(ns < 10_000 ? 3 : 2)} µs`;
}
