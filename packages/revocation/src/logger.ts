/** The logging this package does: connection trouble and undecodable events, never token text. */
export interface RevocationLogger {
  warn(fields: Readonly<Record<string, unknown>>, message: string): void;
}

export const SILENT_LOGGER: RevocationLogger = { warn: () => undefined };
