import { spawn } from "node:child_process";
import { Socket } from "node:net";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { HarnessError } from "../harness-error.js";
import { trackChild, untrackChild } from "./reaper.js";

/**
 * The engine under startRedis and startNats: spawn a server, watch its log
 * until it says it is ready, and stop it politely, then firmly.
 */

export interface ServerProcessOptions {
  /** Used in error messages only. */
  readonly name: string;
  readonly binary: string;
  readonly args: readonly string[];
  /** Sees every log line (stdout and stderr) until it returns true. */
  readonly isReady: (line: string) => boolean;
  /** A log line meaning "someone else has the port", so the caller may retry elsewhere. */
  readonly portInUse: RegExp;
  readonly startTimeoutMs: number;
}

export interface ServerProcess {
  readonly running: boolean;
  /** The most recent log lines, for error messages. */
  recentLogs(): readonly string[];
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. Idempotent. */
  stop(graceMs: number): Promise<void>;
}

const MAX_LOG_LINES = 40;

export function spawnServer(options: ServerProcessOptions): Promise<ServerProcess> {
  const { name, binary, args, isReady, portInUse, startTimeoutMs } = options;
  // Not detached: the server belongs to the test process's group, so a Ctrl-C
  // in the terminal reaches it too.
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"], detached: false });
  trackChild(child);

  const logs: string[] = [];
  let closed = false;
  let ended = "";
  // 'close' rather than 'exit': it waits for stdio to drain, so the line that
  // explains a failed start is in `logs` before we report it.
  const gone = new Promise<void>((resolve) => {
    child.once("close", (code, signal) => {
      closed = true;
      ended = signal !== null ? `signal ${signal}` : `code ${String(code)}`;
      untrackChild(child);
      resolve();
    });
  });

  let stopping: Promise<void> | undefined;
  const handle: ServerProcess = {
    get running() {
      return !closed;
    },
    recentLogs: () => [...logs],
    stop(graceMs) {
      stopping ??= (async () => {
        if (closed) return;
        child.kill("SIGTERM");
        const killer = setTimeout(() => child.kill("SIGKILL"), graceMs);
        await gone;
        clearTimeout(killer);
      })();
      return stopping;
    },
  };

  return new Promise<ServerProcess>((resolve, reject) => {
    let settled = false;
    const fail = (error: HarnessError | (() => HarnessError)): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const settle = (): void => {
        reject(typeof error === "function" ? error() : error);
      };
      if (child.pid === undefined) {
        // Never spawned (ENOENT, EACCES): there is no process to wait for.
        untrackChild(child);
        settle();
        return;
      }
      child.kill("SIGKILL");
      // Reject only once the process is gone, so a failed start never leaks one.
      void gone.then(settle);
    };
    const timer = setTimeout(() => {
      fail(
        () =>
          new HarnessError("START_TIMEOUT", `${name} was not ready within ${startTimeoutMs} ms`, {
            logs,
          }),
      );
    }, startTimeoutMs);

    const onLine = (line: string): void => {
      logs.push(line);
      if (logs.length > MAX_LOG_LINES) logs.shift();
      if (settled || !isReady(line)) return;
      settled = true;
      clearTimeout(timer);
      // A test that forgets stop() must not keep its worker alive; the reaper
      // kills the server when the process ends.
      child.unref();
      unref(child.stdout);
      unref(child.stderr);
      resolve(handle);
    };
    watchLines(child.stdout, onLine);
    watchLines(child.stderr, onLine);

    child.once("error", (cause) => {
      fail(new HarnessError("START_FAILED", `could not run ${binary}`, { cause }));
    });
    void gone.then(() => {
      fail(() => {
        const code = logs.some((line) => portInUse.test(line)) ? "PORT_UNAVAILABLE" : "START_FAILED";
        return new HarnessError(code, `${name} exited (${ended}) before it was ready`, { logs });
      });
    });
  });
}

function watchLines(stream: Readable | null, onLine: (line: string) => void): void {
  if (stream === null) return;
  createInterface({ input: stream, crlfDelay: Infinity }).on("line", onLine);
}

function unref(stream: Readable | null): void {
  if (stream instanceof Socket) stream.unref();
}
