/**
 * Starts load-server.ts in a child process and talks to it over its stdin and stdout lines. The
 * child stops when its stdin closes, so a benchmark that dies takes its servers with it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { LoadServerCpu, LoadServerReady, LoadServerSpec } from "./load-protocol.js";

const SCRIPT = fileURLToPath(new URL("./load-server.ts", import.meta.url));
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

export interface ServerProcess extends LoadServerReady {
  readonly name: string;
  /** The child's CPU time so far (user + system, every thread), in microseconds. */
  cpuUs(): Promise<number>;
  stop(): Promise<void>;
}

export async function startServerProcess(name: string, spec: LoadServerSpec): Promise<ServerProcess> {
  const child = spawn(process.execPath, ["--conditions=trustmesh-source", "--import", "tsx", SCRIPT, JSON.stringify(spec)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const waiting: ((line: string) => void)[] = [];
  let exited: string | undefined;
  const failAll = (reason: string): void => {
    exited = reason;
    for (const resolve of waiting.splice(0)) resolve("");
  };
  child.on("exit", (code, signal) => {
    failAll(`${name} server exited (${signal ?? `code ${code}`})`);
  });
  child.on("error", (error) => {
    failAll(`${name} server failed to start: ${error.message}`);
  });
  createInterface({ input: child.stdout }).on("line", (line) => waiting.shift()?.(line));
  const nextLine = (): Promise<string> =>
    new Promise((resolve, reject) => {
      if (exited !== undefined) {
        reject(new Error(exited));
        return;
      }
      waiting.push((line) => {
        if (exited !== undefined && line === "") reject(new Error(exited));
        else resolve(line);
      });
    });

  const timer = setTimeout(() => child.kill(), START_TIMEOUT_MS);
  let ready: LoadServerReady;
  try {
    ready = JSON.parse(await nextLine()) as LoadServerReady;
  } finally {
    clearTimeout(timer);
  }
  return {
    name,
    ...ready,
    async cpuUs() {
      const answer = nextLine();
      child.stdin?.write("cpu\n");
      return (JSON.parse(await answer) as LoadServerCpu).cpuUs;
    },
    stop: () => stopChild(child),
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once("exit", () => {
    resolve();
  }));
  child.stdin?.end();
  const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
  await gone;
  clearTimeout(timer);
}
