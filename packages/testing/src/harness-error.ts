/**
 * Codes are a closed union so a test can switch on them; a message alone would
 * tempt callers into matching on text that changes.
 */
export type HarnessErrorCode =
  | "BINARY_NOT_FOUND"
  | "INVALID_OPTIONS"
  | "START_FAILED"
  | "START_TIMEOUT"
  | "PORT_UNAVAILABLE"
  | "DISPOSED"
  | "NOT_STARTED";

export interface HarnessErrorOptions {
  readonly cause?: unknown;
  /** The server's last log lines: the only clue when a start fails on a CI machine. */
  readonly logs?: readonly string[];
}

export class HarnessError extends Error {
  override readonly name = "HarnessError";
  readonly code: HarnessErrorCode;
  readonly logs: readonly string[];

  constructor(code: HarnessErrorCode, message: string, options: HarnessErrorOptions = {}) {
    super(withLogs(message, options.logs ?? []), { cause: options.cause });
    this.code = code;
    this.logs = options.logs ?? [];
  }
}

function withLogs(message: string, logs: readonly string[]): string {
  if (logs.length === 0) return message;
  return `${message}\n--- last server log lines ---\n${logs.join("\n")}`;
}
