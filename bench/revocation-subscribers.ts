/**
 * Starts revocation-subscriber-process.ts in child processes and talks to each over its stdin
 * and stdout lines. A child stops when its stdin closes, so a benchmark that dies takes its
 * subscribers with it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { FromSubscriber, SubscriberSpec, ToSubscriber } from "./revocation-protocol.js";

const SCRIPT = fileURLToPath(new URL("./revocation-subscriber-process.ts", import.meta.url));
const STOP_TIMEOUT_MS = 5_000;

export type Reply<T extends FromSubscriber["type"]> = Extract<FromSubscriber, { type: T }>;

export interface SubscriberProcess {
  readonly name: string;
  readonly instanceId: string;
  send(message: ToSubscriber): void;
  /** The next message of this type; the child's error or exit, or the deadline, rejects it. */
  reply<T extends Exclude<FromSubscriber["type"], "error">>(type: T, timeoutMs: number): Promise<Reply<T>>;
  /** Resolves once the child has exited (it is killed if it does not within a few seconds). */
  stop(): Promise<void>;
}

export function startSubscriber(name: string, spec: SubscriberSpec): SubscriberProcess {
  const child = spawn(process.execPath, ["--conditions=trustmesh-source", "--import", "tsx", SCRIPT, JSON.stringify(spec)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const queued: FromSubscriber[] = [];
  const waiters = new Set<() => void>();
  let failure: Error | undefined;
  const wake = (): void => {
    for (const waiter of [...waiters]) waiter();
  };
  const fail = (reason: string): void => {
    failure ??= new Error(`${name}: ${reason}`);
    wake();
  };
  child.on("exit", (code, signal) => {
    fail(`exited (${signal ?? `code ${code}`})`);
  });
  child.on("error", (error) => {
    fail(`failed to start: ${error.message}`);
  });
  createInterface({ input: child.stdout }).on("line", (line) => {
    const message = JSON.parse(line) as FromSubscriber;
    if (message.type === "error") fail(message.message);
    else queued.push(message);
    wake();
  });

  return {
    name,
    instanceId: spec.instanceId,
    send(message) {
      child.stdin.write(`${JSON.stringify(message)}\n`);
    },
    reply<T extends Exclude<FromSubscriber["type"], "error">>(type: T, timeoutMs: number): Promise<Reply<T>> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          finish(() => {
            reject(new Error(`${name}: no "${type}" reply within ${timeoutMs} ms`));
          });
        }, timeoutMs);
        const finish = (settle: () => void): void => {
          clearTimeout(timer);
          waiters.delete(look);
          settle();
        };
        const look = (): void => {
          const at = queued.findIndex((message) => message.type === type);
          const failed = failure;
          if (at >= 0) {
            const found = queued.splice(at, 1)[0] as Reply<T>;
            finish(() => {
              resolve(found);
            });
          } else if (failed !== undefined) {
            finish(() => {
              reject(failed);
            });
          }
        };
        waiters.add(look);
        look();
      });
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
