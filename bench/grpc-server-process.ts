/**
 * Starts grpc-echo-server.ts in a child process and talks to it over its stdin and stdout lines,
 * as lib/server-process.ts does for the load servers. The child stops when its stdin closes, so a
 * benchmark that dies takes its server with it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { EchoServerCpu, EchoServerReady, EchoServerSpec } from "./grpc-protocol.js";

const SCRIPT = fileURLToPath(new URL("./grpc-echo-server.ts", import.meta.url));
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

export interface EchoServerProcess extends EchoServerReady {
  /** The child's CPU time so far and its verifiers' cache counters. */
  cpu(): Promise<EchoServerCpu>;
  stop(): Promise<void>;
}

export async function startEchoServerProcess(spec: EchoServerSpec): Promise<EchoServerProcess> {
  const child = spawn(process.execPath, ["--conditions=trustmesh-source", "--import", "tsx", SCRIPT, JSON.stringify(spec)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  let exited: string | undefined;
  const waiting: { resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
  const fail = (reason: string): void => {
    exited = reason;
    for (const waiter of waiting.splice(0)) waiter.reject(new Error(reason));
  };
  child.on("exit", (code, signal) => {
    fail(`echo server exited (${signal ?? `code ${code}`})`);
  });
  child.on("error", (error) => {
    fail(`echo server failed to start: ${error.message}`);
  });
  createInterface({ input: child.stdout }).on("line", (line) => waiting.shift()?.resolve(line));
  const nextLine = (): Promise<string> =>
    new Promise((resolve, reject) => {
      if (exited === undefined) waiting.push({ resolve, reject });
      else reject(new Error(exited));
    });

  const timer = setTimeout(() => child.kill(), START_TIMEOUT_MS);
  let ready: EchoServerReady;
  try {
    ready = JSON.parse(await nextLine()) as EchoServerReady;
  } finally {
    clearTimeout(timer);
  }
  return {
    bareAddress: ready.bareAddress,
    warmAddress: ready.warmAddress,
    coldAddress: ready.coldAddress,
    async cpu() {
      const answer = nextLine();
      child.stdin.write("cpu\n");
      return JSON.parse(await answer) as EchoServerCpu;
    },
    stop: () => stopChild(child),
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => {
    child.once("exit", () => {
      resolve();
    });
  });
  child.stdin?.end();
  const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
  await gone;
  clearTimeout(timer);
}
