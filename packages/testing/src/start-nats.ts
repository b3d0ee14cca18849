import { HarnessError } from "./harness-error.js";
import { restartable } from "./lib/restartable.js";
import { spawnServer, type ServerProcess } from "./lib/server-process.js";
import { makeTempDir, removeTempDir } from "./lib/temp-dir.js";
import { resolveServerOptions, type ResolvedServerOptions, type ServerOptions } from "./server-options.js";

export type StartNatsOptions = ServerOptions;

export interface NatsServer {
  /** `nats://127.0.0.1:PORT`, ready for `connect({ servers: url })`. */
  readonly url: string;
  readonly port: number;
  /** JetStream's `-sd` dir; it outlives stop() so a restart finds the streams again. */
  readonly storeDir: string;
  readonly running: boolean;
  /**
   * Stops the process (SIGTERM; clients see a disconnect) but keeps the port
   * and the store dir for restart(). Idempotent.
   */
  stop(): Promise<void>;
  /**
   * Starts the server again on the same port with the same store, so clients
   * with reconnect enabled find it by themselves. Stops it first if running.
   */
  restart(): Promise<void>;
  /** stop() and remove the store dir; restart() fails after this. Idempotent. */
  dispose(): Promise<void>;
}

const LISTENING_LINE = /Listening for client connections on 127\.0\.0\.1:(\d+)/;
/** Logged after JetStream has started and restored its streams, so one line means "ready". */
const READY_LINE = /Server is ready/;
const PORT_IN_USE_LINE = /address already in use/;

/** Starts a private nats-server with JetStream on a port it picks itself (`-p -1`). */
export async function startNats(options: StartNatsOptions = {}): Promise<NatsServer> {
  const resolved = resolveServerOptions("nats-server", options);
  const storeDir = makeTempDir("trustmesh-nats-");
  let started: { port: number; server: ServerProcess };
  try {
    started = await spawnNats(resolved, storeDir, undefined);
  } catch (error) {
    await removeTempDir(storeDir);
    throw error;
  }
  const { port } = started;
  const slot = restartable(
    started.server,
    async () => (await spawnNats(resolved, storeDir, port)).server,
    resolved.stopGraceMs,
  );
  let disposed: Promise<void> | undefined;
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    get running() {
      return slot.running;
    },
    stop: () => slot.stop(),
    restart() {
      if (disposed !== undefined) return Promise.reject(new HarnessError("DISPOSED", "restart() after dispose()"));
      return slot.restart();
    },
    dispose() {
      disposed ??= (async () => {
        await slot.stop();
        await removeTempDir(storeDir);
      })();
      return disposed;
    },
  };
}

async function spawnNats(
  resolved: ResolvedServerOptions,
  storeDir: string,
  port: number | undefined,
): Promise<{ port: number; server: ServerProcess }> {
  let listening: number | undefined;
  const server = await spawnServer({
    name: "nats-server",
    binary: resolved.binary,
    // No -l: the log goes to stderr, where the harness reads the port and readiness.
    // -p -1 lets the server pick a free port; a restart asks for the same one back.
    args: ["-a", "127.0.0.1", "-p", String(port ?? -1), "-js", "-sd", storeDir, ...resolved.args],
    isReady: (line) => {
      const match = LISTENING_LINE.exec(line);
      if (match?.[1] !== undefined) listening = Number(match[1]);
      return READY_LINE.test(line);
    },
    portInUse: PORT_IN_USE_LINE,
    startTimeoutMs: resolved.startTimeoutMs,
  });
  if (listening === undefined || (port !== undefined && listening !== port)) {
    const logs = server.recentLogs();
    await server.stop(resolved.stopGraceMs);
    throw new HarnessError("START_FAILED", "nats-server is ready but did not log the expected client port", {
      logs,
    });
  }
  return { port: listening, server };
}
