/**
 * vitest glue for the harness, in its own entry so that the rest of the
 * package (and the benches that use it) never import vitest.
 *
 *   const nats = useNats();
 *   it("publishes", async () => { const nc = await connect({ servers: nats().url }); ... });
 */
import { afterAll, beforeAll } from "vitest";
import { HarnessError } from "./harness-error.js";
import { startNats, type NatsServer, type StartNatsOptions } from "./start-nats.js";
import { startRedis, type RedisServer, type StartRedisOptions } from "./start-redis.js";

/** One redis-server for the enclosing suite; the getter works inside tests and later hooks. */
export function useRedis(options?: StartRedisOptions): () => RedisServer {
  return useServer("useRedis", () => startRedis(options), (server) => server.stop());
}

/** One nats-server with JetStream for the enclosing suite; disposed (store dir removed) after it. */
export function useNats(options?: StartNatsOptions): () => NatsServer {
  return useServer("useNats", () => startNats(options), (server) => server.dispose());
}

function useServer<T>(helper: string, start: () => Promise<T>, end: (server: T) => Promise<void>): () => T {
  let server: T | undefined;
  beforeAll(async () => {
    server = await start();
  });
  // afterAll runs whether or not the tests passed; a beforeAll that failed left nothing to end.
  afterAll(async () => {
    if (server !== undefined) await end(server);
    server = undefined;
  });
  return () => {
    if (server === undefined) {
      throw new HarnessError(
        "NOT_STARTED",
        `${helper}(): the server exists only inside tests and hooks after beforeAll`,
      );
    }
    return server;
  };
}
