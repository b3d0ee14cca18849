import { HarnessError } from "./harness-error.js";
import { freePort } from "./lib/free-port.js";
import { restartable } from "./lib/restartable.js";
import { spawnServer, type ServerProcess } from "./lib/server-process.js";
import { makeTempDir, removeTempDir } from "./lib/temp-dir.js";
import { resolveServerOptions, type ResolvedServerOptions, type ServerOptions } from "./server-options.js";

export type StartRedisOptions = ServerOptions;

export interface RedisServer {
  /** `redis://127.0.0.1:PORT`, ready for `new Redis(url)`. */
  readonly url: string;
  readonly port: number;
  /** The server's working dir; nothing is persisted there (no RDB, no AOF). */
  readonly dir: string;
  readonly running: boolean;
  /**
   * Stops the process and starts a new one on the same port, for "Redis went
   * away" fault tests. The data is gone afterwards: persistence is off.
   */
  restart(): Promise<void>;
  /** Stops the process and removes its dir. Idempotent; the server cannot be restarted after. */
  stop(): Promise<void>;
}

/** redis-server cannot bind port 0, so a picked port can be lost to a race; this many tries, then fail. */
const MAX_PORT_ATTEMPTS = 5;
const READY_LINE = /Ready to accept connections/;
const PORT_IN_USE_LINE = /Address already in use/;

/** Starts a private redis-server on a free loopback port, never the machine's 6379. */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const resolved = resolveServerOptions("redis-server", options);
  const dir = makeTempDir("trustmesh-redis-");
  let started: { port: number; server: ServerProcess };
  try {
    started = await spawnOnFreePort(resolved, dir);
  } catch (error) {
    await removeTempDir(dir);
    throw error;
  }
  const { port } = started;
  const slot = restartable(started.server, () => spawnRedis(resolved, dir, port), resolved.stopGraceMs);
  let stopped: Promise<void> | undefined;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    get running() {
      return slot.running;
    },
    restart() {
      if (stopped !== undefined) return Promise.reject(new HarnessError("DISPOSED", "restart() after stop()"));
      return slot.restart();
    },
    stop() {
      stopped ??= (async () => {
        await slot.stop();
        await removeTempDir(dir);
      })();
      return stopped;
    },
  };
}

async function spawnOnFreePort(
  resolved: ResolvedServerOptions,
  dir: string,
): Promise<{ port: number; server: ServerProcess }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return { port, server: await spawnRedis(resolved, dir, port) };
    } catch (error) {
      const lostRace = error instanceof HarnessError && error.code === "PORT_UNAVAILABLE";
      if (!lostRace || attempt >= MAX_PORT_ATTEMPTS) throw error;
    }
  }
}

function spawnRedis(resolved: ResolvedServerOptions, dir: string, port: number): Promise<ServerProcess> {
  return spawnServer({
    name: "redis-server",
    binary: resolved.binary,
    args: [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--daemonize",
      "no",
      "--dir",
      dir,
      ...resolved.args,
    ],
    isReady: (line) => READY_LINE.test(line),
    portInUse: PORT_IN_USE_LINE,
    startTimeoutMs: resolved.startTimeoutMs,
  });
}
