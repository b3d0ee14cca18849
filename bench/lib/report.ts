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

/**
 * Figures that are not one operation's timing (a load test's throughput and CPU, counts), kept
 * as numbers in the results file; each column says how to print its values.
 */
export interface TableGroup {
  readonly title: string;
  readonly details: Readonly<Record<string, string | number>>;
  readonly columns: readonly TableColumn[];
  readonly rows: readonly Readonly<Record<string, string | number>>[];
}

export interface TableColumn {
  /** The row field this column shows. */
  readonly key: string;
  readonly label: string;
  /** Decimals for a number; a string value is printed as it is. */
  readonly digits?: number;
  /** Printed after a number: "µs", "×", "/s"… */
  readonly unit?: string;
}

export interface Benchmark {
  readonly description: string;
  readonly measure: MeasureOptions;
  run(): Promise<readonly (ResultGroup | TableGroup)[]>;
}

export function formatGroup(group: ResultGroup | TableGroup): string {
  if ("columns" in group) return formatTable(group);
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
  return layout(`${group.title}${details === "" ? "" : `  (${details})`}`, header, body, new Set([1, 2, 3]));
}

function formatTable(group: TableGroup): string {
  const details = Object.entries(group.details)
    .map(([name, value]) => `${name} ${value}`)
    .join(", ");
  const header = group.columns.map((column) => column.label);
  const body = group.rows.map((row) =>
    group.columns.map((column) => {
      const value = row[column.key];
      if (value === undefined) return "";
      return typeof value === "number" ? `${value.toFixed(column.digits ?? 0)}${column.unit === undefined ? "" : ` ${column.unit}`}` : value;
    }),
  );
  const numeric = new Set(group.columns.flatMap((column, index) => (group.rows.some((row) => typeof row[column.key] === "number") ? [index] : [])));
  return layout(`${group.title}${details === "" ? "" : `  (${details})`}`, header, body, numeric);
}

/** Numeric columns right-aligned, the rest left-aligned, under a rule. */
function layout(title: string, header: readonly string[], body: readonly (readonly string[])[], numeric: ReadonlySet<number>): string {
  const widths = header.map((cell, column) => Math.max(cell.length, ...body.map((line) => (line[column] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (numeric.has(column) ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0)))
      .join("  ")
      .trimEnd();
  const rule = widths.map((width) => "-".repeat(width)).join("  ");
  return [title, line(header), rule, ...body.map(line)].join("\n");
}

function formatRatio(ratio: number): string {
  return `${ratio < 0.1 ? ratio.toPrecision(2) : ratio.toFixed(2)}×`;
}

function formatNs(ns: number): string {
  return `${(ns / 1000).toFixed(ns < 10_000 ? 3 : 2)} µs`;
}
