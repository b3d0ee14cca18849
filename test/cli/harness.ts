/**
 * What the trustctl suites share: a real issuer in this process (memory store, free ports, its
 * own admin key file in a temp dir) and trustctl run as a subprocess, exactly as a person runs it.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig, startIssuer, type RunningIssuer } from "@trustmesh/issuer";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TRUSTCTL = ["--conditions=trustmesh-source", "--import", "tsx", "packages/cli/src/main.ts"];

export interface TestIssuer {
  readonly issuer: RunningIssuer;
  readonly dir: string;
  readonly adminKeyFile: string;
  /** The environment trustctl reads, pointing at this issuer. */
  readonly env: Readonly<Record<string, string>>;
  close(): Promise<void>;
}

/** `extraEnv` adds issuer variables, e.g. TRUSTMESH_NATS_URL; with it, `env` gives trustctl the same NATS. */
export async function startTestIssuer(extraEnv: Readonly<Record<string, string>> = {}): Promise<TestIssuer> {
  const dir = await mkdtemp(join(tmpdir(), "trustctl-test-"));
  const adminKeyFile = join(dir, "admin-key.json");
  const issuer = await startIssuer({
    config: loadConfig({
      TRUSTMESH_GRPC_ADDRESS: "127.0.0.1:0",
      TRUSTMESH_HTTP_ADDRESS: "127.0.0.1:0",
      TRUSTMESH_ADMIN_KEY_FILE: adminKeyFile,
      TRUSTMESH_LOG_LEVEL: "silent",
      ...extraEnv,
    }),
  });
  return {
    issuer,
    dir,
    adminKeyFile,
    env: {
      TRUSTMESH_ISSUER_ADDRESS: issuer.grpcAddress,
      TRUSTMESH_ADMIN_KEY_FILE: adminKeyFile,
      ...(extraEnv["TRUSTMESH_NATS_URL"] === undefined ? {} : { TRUSTMESH_NATS_URL: extraEnv["TRUSTMESH_NATS_URL"] }),
    },
    async close() {
      await issuer.close(0);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs trustctl with only the given TRUSTMESH_* variables, so the caller's environment cannot leak in. */
export function trustctl(args: readonly string[], env: Readonly<Record<string, string>> = {}, stdin?: string): Promise<CliResult> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("TRUSTMESH_")));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...TRUSTCTL, ...args], { cwd: REPO_ROOT, env: { ...base, ...env }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}

/** A port nothing listens on: bound, read back, released. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => {
    resolve();
  }));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** One clear line on stderr: no stack trace, no multi-line dump. */
export function expectOneLineError(result: CliResult): string {
  const lines = result.stderr.trimEnd().split("\n");
  if (lines.length !== 1 || !lines[0]?.startsWith("trustctl: ") || /\n\s+at /.test(result.stderr)) {
    throw new Error(`expected one "trustctl: …" line on stderr, got:\n${result.stderr}`);
  }
  return lines[0];
}

export interface RunningTrustctl {
  /** Resolves with the first stdout line that `match` accepts, from the start of the output. */
  stdoutLine(match: (line: string) => boolean): Promise<string>;
  /** Resolves once stderr has matched `pattern`. */
  stderrMatch(pattern: RegExp): Promise<void>;
  /** Sends `signal` and resolves with how the process ended. */
  stop(signal: NodeJS.Signals): Promise<CliResult>;
}

const LINE_WAIT_MS = 15_000;

/** A trustctl that runs until stopped (`watch`), with its output readable as it comes. */
export function startTrustctl(args: readonly string[], env: Readonly<Record<string, string>> = {}): RunningTrustctl {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("TRUSTMESH_")));
  const child = spawn(process.execPath, [...TRUSTCTL, ...args], { cwd: REPO_ROOT, env: { ...base, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  const waiters = new Set<() => void>();
  const changed = (): void => {
    for (const waiter of waiters) waiter();
  };
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    changed();
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
    changed();
  });
  const ended = new Promise<CliResult>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      changed();
      resolve({ code, stdout, stderr });
    });
  });
  const until = <T>(what: string, look: () => T | undefined): Promise<T> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`trustctl ${args.join(" ")}: no ${what} within ${LINE_WAIT_MS} ms; stdout:\n${stdout}\nstderr:\n${stderr}`));
      }, LINE_WAIT_MS);
      const check = (): void => {
        const found = look();
        if (found !== undefined) {
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          clearTimeout(timer);
          waiters.delete(check);
          reject(new Error(`trustctl ${args.join(" ")} ended (${String(child.exitCode ?? child.signalCode)}) before its ${what}; stderr:\n${stderr}`));
        }
      };
      waiters.add(check);
      check();
    });
  return {
    stdoutLine: (match) => until("matching stdout line", () => stdout.split("\n").slice(0, -1).find(match)),
    stderrMatch: (pattern) => until(`stderr matching ${String(pattern)}`, () => (pattern.test(stderr) ? true : undefined)).then(() => undefined),
    stop(signal) {
      if (child.exitCode === null) child.kill(signal);
      return ended;
    },
  };
}
