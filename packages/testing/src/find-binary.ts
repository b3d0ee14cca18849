import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";
import { HarnessError } from "./harness-error.js";

/** The servers the harness knows how to start, each shipped by the Debian package of the same name. */
export type ServerBinary = "redis-server" | "nats-server";

export interface FindBinaryOptions {
  /** A PATH-style list searched first; defaults to the process's PATH. */
  readonly path?: string;
  /** Searched after `path`: Debian puts nats-server in /usr/sbin, which a non-root PATH often lacks. */
  readonly fallbackDirs?: readonly string[];
}

export const DEFAULT_FALLBACK_DIRS: readonly string[] = ["/usr/sbin", "/usr/bin"];

const DEBIAN_PACKAGE: Readonly<Record<ServerBinary, string>> = {
  "redis-server": "redis-server",
  "nats-server": "nats-server",
};

/** Absolute path of an executable `name`, or a BINARY_NOT_FOUND error that says what to install. */
export function findBinary(name: ServerBinary, options: FindBinaryOptions = {}): string {
  const path = options.path ?? process.env["PATH"] ?? "";
  const dirs = [...path.split(delimiter), ...(options.fallbackDirs ?? DEFAULT_FALLBACK_DIRS)].filter(
    (dir) => dir !== "",
  );
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  throw new HarnessError(
    "BINARY_NOT_FOUND",
    `${name} not found on PATH or in ${DEFAULT_FALLBACK_DIRS.join(", ")}; ` +
      `install it with \`apt-get install -y ${DEBIAN_PACKAGE[name]}\``,
  );
}

function isExecutableFile(candidate: string): boolean {
  try {
    if (!statSync(candidate).isFile()) return false;
    accessSync(candidate, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
