import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { HarnessError, type HarnessErrorCode } from "./harness-error.js";
import { startRedis, type RedisServer, type StartRedisOptions } from "./start-redis.js";

const MACHINE_REDIS_PORT = 6379;

const started: RedisServer[] = [];
async function start(options?: StartRedisOptions): Promise<RedisServer> {
  const server = await startRedis(options);
  started.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((server) => server.stop()));
});

async function withClient<T>(url: string, use: (client: Redis) => Promise<T>): Promise<T> {
  // No retries: a server that is not there must fail the test, not stall it.
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await client.connect();
    return await use(client);
  } finally {
    client.disconnect();
  }
}

const ping = (url: string): Promise<string> => withClient(url, (client) => client.ping());

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => {
      resolve(false);
    });
    probe.listen({ host: "127.0.0.1", port, exclusive: true }, () => {
      probe.close(() => {
        resolve(true);
      });
    });
  });
}

describe("startRedis", () => {
  it("starts on a free loopback port that is not the machine's 6379 and answers PING", async () => {
    const redis = await start();
    expect(redis.port).not.toBe(MACHINE_REDIS_PORT);
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(redis.running).toBe(true);
    expect(await ping(redis.url)).toBe("PONG");
  });

  it("stop() frees the port and removes the dir, and can be called again", async () => {
    const redis = await start();
    expect(existsSync(redis.dir)).toBe(true);
    await redis.stop();
    expect(redis.running).toBe(false);
    expect(existsSync(redis.dir)).toBe(false);
    expect(await canBind(redis.port)).toBe(true);
    await redis.stop();
  });

  it("gives two servers started at once different ports and dirs", async () => {
    const [a, b] = await Promise.all([start(), start()]);
    expect(a.port).not.toBe(b.port);
    expect(a.dir).not.toBe(b.dir);
    expect(await Promise.all([ping(a.url), ping(b.url)])).toEqual(["PONG", "PONG"]);
  });

  it("restart() comes back on the same port, without the old data", async () => {
    const redis = await start();
    await withClient(redis.url, (client) => client.set("k", "v"));
    await redis.restart();
    expect(redis.running).toBe(true);
    expect(await withClient(redis.url, (client) => client.get("k"))).toBeNull();
    await redis.stop();
    await expect(redis.restart()).rejects.toMatchObject({ code: "DISPOSED" });
  });

  it.each<[string, StartRedisOptions, HarnessErrorCode, RegExp]>([
    ["a zero start timeout", { startTimeoutMs: 0 }, "INVALID_OPTIONS", /startTimeoutMs/],
    ["a binary that does not exist", { binary: "/nonexistent/redis-server" }, "START_FAILED", /could not run/],
    ["an argument redis rejects", { args: ["--no-such-directive", "x"] }, "START_FAILED", /last server log lines/],
    ["a start timeout too short to make", { startTimeoutMs: 1 }, "START_TIMEOUT", /not ready within 1 ms/],
  ])("fails with a coded error on %s", async (_, options, code, message) => {
    const error: unknown = await startRedis(options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HarnessError);
    expect(error).toMatchObject({ code, message: expect.stringMatching(message) as unknown });
  });
});
