import { rmSync } from "node:fs";
import type { ChildProcess } from "node:child_process";

/**
 * Last line of defence against orphaned servers: a test that throws before its
 * `stop()`, or a worker that vitest tears down, must not leave a nats-server
 * holding a port and a store dir for the rest of the CI run. Only synchronous
 * work is possible here ('exit' handlers cannot await), so children get SIGKILL.
 */

const children = new Set<ChildProcess>();
const dirs = new Set<string>();
let installed = false;

/**
 * vitest stops its fork workers with SIGTERM, which by default ends a Node
 * process without running 'exit' handlers; so the signals are caught too.
 */
const SIGNALS: readonly NodeJS.Signals[] = ["SIGTERM", "SIGINT", "SIGHUP"];

export function trackChild(child: ChildProcess): void {
  install();
  children.add(child);
}

export function untrackChild(child: ChildProcess): void {
  children.delete(child);
}

export function trackDir(dir: string): void {
  install();
  dirs.add(dir);
}

export function untrackDir(dir: string): void {
  dirs.delete(dir);
}

function reap(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  children.clear();
  for (const dir of dirs) {
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  }
  dirs.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on("exit", reap);
  for (const signal of SIGNALS) {
    const onSignal = (): void => {
      reap();
      // Someone else listening decides whether the process ends; when we are
      // alone, re-raising keeps the default "die by this signal" behaviour.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}
