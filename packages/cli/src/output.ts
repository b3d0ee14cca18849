import type { ExitCode } from "./exit-codes.js";

/** Where a command writes: stdout for results, stderr for notes a script should not capture. */
export interface TrustctlIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Read when `token inspect -` takes the token from standard input. */
  readonly stdin?: AsyncIterable<string | Uint8Array>;
}

export interface Output {
  readonly json: boolean;
  /** A line of the result, on stdout. */
  line(text?: string): void;
  /** The whole result for scripts (`--json`), on stdout. */
  data(value: unknown): void;
  /** One of many results (`watch --json`): a JSON object on a line of its own, on stdout. */
  record(value: unknown): void;
  /** Human context beside the result, on stderr, so `$(trustctl …)` captures the result alone. */
  note(text: string): void;
}

export function createOutput(io: TrustctlIo, json: boolean): Output {
  return {
    json,
    line(text = "") {
      io.stdout.write(`${text}\n`);
    },
    data(value) {
      io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
    record(value) {
      io.stdout.write(`${JSON.stringify(value)}\n`);
    },
    note(text) {
      io.stderr.write(`${text}\n`);
    },
  };
}

/** What a command returns: its exit code, EXIT.OK unless it has a result-level failure to report. */
export type CommandResult = Promise<ExitCode>;

/** 2026-01-01T00:00:00Z: seconds are precise enough for everything trustctl shows. */
export function isoTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Left-aligned columns, two spaces apart; the last column is not padded. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, column) => Math.max(...all.map((row) => (row[column] ?? "").length)));
  return all.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join("  "));
}

/** C0 and C1 control characters (terminal escapes among them) as \u escapes; tabs and all else kept. */
export function printable(text: string): string {
  return Array.from(text, (char) => {
    const code = char.charCodeAt(0);
    return (code < 0x20 && code !== 0x09) || (code >= 0x7f && code <= 0x9f) ? `\\u${code.toString(16).padStart(4, "0")}` : char;
  }).join("");
}
