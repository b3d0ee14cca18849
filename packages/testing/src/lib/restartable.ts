import type { ServerProcess } from "./server-process.js";

/**
 * One server slot whose process can be replaced. stop() and restart() run one
 * after the other, in call order: a fault test's afterEach that stops the
 * server while a restart() is still starting must stop the new process, not
 * the old one that is already gone.
 */
export interface Restartable {
  readonly running: boolean;
  stop(): Promise<void>;
  restart(): Promise<void>;
}

export function restartable(
  first: ServerProcess,
  spawnAgain: () => Promise<ServerProcess>,
  stopGraceMs: number,
): Restartable {
  let current = first;
  let queue: Promise<unknown> = Promise.resolve();
  const serially = (operation: () => Promise<void>): Promise<void> => {
    const run = queue.then(operation);
    queue = run.catch(() => undefined);
    return run;
  };
  return {
    get running() {
      return current.running;
    },
    stop: () => serially(() => current.stop(stopGraceMs)),
    restart: () =>
      serially(async () => {
        await current.stop(stopGraceMs);
        current = await spawnAgain();
      }),
  };
}
