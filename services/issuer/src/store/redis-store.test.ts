import { createServer, type Server, type Socket } from "node:net";
import { startRedis } from "@trustmesh/testing";
import { useRedis } from "@trustmesh/testing/vitest";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { StoreErrorCode } from "./errors.js";
import { MAX_REFRESH_TOKEN_LIFETIME_SEC, RETENTION_SLACK_SEC } from "./limits.js";
import { newRefreshToken } from "./refresh-token.js";
import { createRedisStore, type RedisStoreOptions } from "./redis-store.js";
import { describeStoreContract } from "./store-contract.js";
import { serviceInput, START_SEC, storeErrorOf } from "./store-contract-context.js";
import type { IssuerStore, RefreshTokenRecord } from "./types.js";

const redis = useRedis();
let prefixes = 0;
/** Every test its own prefix: tests never see each other's keys, and nothing needs flushing. */
const freshPrefix = (): string => `t${process.pid}-${++prefixes}:`;
const frozen = (): number => START_SEC * 1000;

describeStoreContract("redis", (now) => {
  const keyPrefix = freshPrefix();
  const open = (): IssuerStore => createRedisStore({ url: redis().url, keyPrefix, now });
  return { store: open(), replica: open };
});

const opened: { close(): Promise<unknown> }[] = [];
function track<T extends { close(): Promise<unknown> }>(closable: T): T {
  opened.push(closable);
  return closable;
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close()));
});

function rawClient(): Redis {
  const raw = new Redis(redis().url);
  track({ close: () => raw.quit() });
  return raw;
}

const recordFor = (familyId: string): RefreshTokenRecord => ({
  familyId,
  clientId: "orders",
  audience: "payments",
  scopes: ["payments:charge"],
  issuedAtSec: START_SEC,
  expiresAtSec: START_SEC + 86_400,
});

/** Rotation of `from` to a fresh successor, as the issuer would ask for it. */
const rotationOf = (from: { familyId: string; hash: string }, newHash = newRefreshToken(from.familyId).hash) => ({
  familyId: from.familyId,
  oldHash: from.hash,
  newHash,
  clientId: "orders",
  expiresAtSec: START_SEC + 86_400,
});

async function dump(raw: Redis, key: string): Promise<string[]> {
  const type = await raw.type(key);
  if (type === "hash") return Object.entries(await raw.hgetall(key)).flat();
  if (type === "zset") return raw.zrange(key, 0, -1, "WITHSCORES");
  if (type === "string") return [(await raw.get(key)) ?? ""];
  throw new Error(`unexpected ${type} at ${key}`);
}

describe("createRedisStore: what lands in Redis", () => {
  it("keeps refresh tokens by hash only, every key of a family under its hash tag", async () => {
    const keyPrefix = freshPrefix();
    const store = track(createRedisStore({ url: redis().url, keyPrefix, now: frozen }));
    const first = newRefreshToken();
    const second = newRefreshToken(first.familyId);
    await store.saveRefreshToken(first.hash, recordFor(first.familyId), { jti: "at-1", exp: START_SEC + 600 });
    await store.rotateRefreshToken(rotationOf(first, second.hash));
    await store.consumeAssertionJti("orders", "assertion-1", START_SEC + 60);

    const raw = rawClient();
    const keys = (await raw.keys(`${keyPrefix}*`)).sort();
    expect(keys).toEqual(
      [
        `${keyPrefix}jti:orders:assertion-1`,
        `${keyPrefix}rf:{${first.familyId}}`,
        `${keyPrefix}rf:{${first.familyId}}:at`,
        `${keyPrefix}rt:{${first.familyId}}:${first.hash}`,
        `${keyPrefix}rt:{${first.familyId}}:${second.hash}`,
      ].sort(),
    );
    const stored = (await Promise.all(keys.map((key) => dump(raw, key)))).flat().concat(keys).join("\n");
    for (const { token } of [first, second]) {
      expect(stored).not.toContain(token);
      expect(stored).not.toContain(token.slice("tmr_".length + 22 + 1));
    }
  });

  it("sets TTLs from the store's clock: tokens and families until expiry plus slack, a revocation for the longest lifetime", async () => {
    const keyPrefix = freshPrefix();
    const store = track(createRedisStore({ url: redis().url, keyPrefix, now: frozen }));
    const first = newRefreshToken();
    await store.saveRefreshToken(first.hash, recordFor(first.familyId), { jti: "at-1", exp: START_SEC + 600 });
    const raw = rawClient();
    const ttl = (key: string): Promise<number> => raw.ttl(`${keyPrefix}${key}`);
    const tokenTtl = 86_400 + RETENTION_SLACK_SEC;
    expect(await ttl(`rt:{${first.familyId}}:${first.hash}`)).toBeGreaterThan(tokenTtl - 5);
    expect(await ttl(`rf:{${first.familyId}}`)).toBeGreaterThan(tokenTtl - 5);
    expect(await ttl(`rf:{${first.familyId}}:at`)).toBeGreaterThan(600 + RETENTION_SLACK_SEC - 5);
    expect(await ttl(`rf:{${first.familyId}}:at`)).toBeLessThanOrEqual(600 + RETENTION_SLACK_SEC);
    await store.revokeFamily(first.familyId);
    expect(await ttl(`rf:{${first.familyId}}`)).toBeGreaterThan(MAX_REFRESH_TOKEN_LIFETIME_SEC);
  });

  it("reloads its scripts after the server forgot them", async () => {
    const store = track(createRedisStore({ url: redis().url, keyPrefix: freshPrefix(), now: frozen }));
    expect(await store.compareAndSetKeyring(0, [])).toBe(true);
    const raw = rawClient();
    await raw.script("FLUSH");
    expect(await store.compareAndSetKeyring(1, [])).toBe(true);
  });
});

describe("createRedisStore: Redis unreachable", () => {
  const fast = { connectTimeoutMs: 300, commandTimeoutMs: 300, now: frozen } as const;
  const token = newRefreshToken();
  const operations: [string, (store: IssuerStore) => Promise<unknown>][] = [
    ["ready", (s) => s.ready()],
    ["registerService", (s) => s.registerService(serviceInput("orders"))],
    ["getService", (s) => s.getService("orders")],
    ["listServices", (s) => s.listServices()],
    ["updateService", (s) => s.updateService("orders", 1, {})],
    ["disableService", (s) => s.disableService("orders")],
    ["consumeAssertionJti", (s) => s.consumeAssertionJti("orders", "j", START_SEC + 60)],
    ["saveRefreshToken", (s) => s.saveRefreshToken(token.hash, recordFor(token.familyId))],
    ["rotateRefreshToken", (s) => s.rotateRefreshToken(rotationOf(token))],
    ["recordAccessToken", (s) => s.recordAccessToken(token.familyId, "at", START_SEC + 60)],
    ["revokeFamily", (s) => s.revokeFamily(token.familyId)],
    ["isFamilyRevoked", (s) => s.isFamilyRevoked(token.familyId)],
    ["getKeyring", (s) => s.getKeyring()],
    ["compareAndSetKeyring", (s) => s.compareAndSetKeyring(0, [])],
  ];

  async function expectUnavailable(operation: Promise<unknown>, port: number): Promise<void> {
    const started = performance.now();
    const error = await storeErrorOf(operation);
    expect(performance.now() - started).toBeLessThan(1500);
    expect(error.code).toBe<StoreErrorCode>("ERR_STORE_UNAVAILABLE");
    expect(error.message).toContain(`issuer store (redis 127.0.0.1:${port}) is unavailable`);
    for (const secret of ["hunter2", token.token, token.hash]) expect(error.message).not.toContain(secret);
  }

  it("refuses every operation promptly, naming the store but not its password, and logs the outage once", async () => {
    const port = await closedPort();
    const warn = vi.fn();
    const store = track(createRedisStore({ url: `redis://:hunter2@127.0.0.1:${port}`, ...fast, logger: { warn } }));
    await Promise.all(operations.map(([, operation]) => expectUnavailable(operation(store), port)));
    expect(warn).toHaveBeenCalledTimes(1);
    expect(JSON.stringify(warn.mock.calls)).not.toContain("hunter2");
  });

  it("refuses promptly when the server accepts connections but never answers", async () => {
    const silent = await silentServer();
    const store = track(createRedisStore({ url: `redis://127.0.0.1:${silent.port}`, ...fast }));
    await expectUnavailable(store.getService("orders"), silent.port);
    await expectUnavailable(store.rotateRefreshToken(rotationOf(token)), silent.port);
  });

  it("refuses promptly once the server goes away mid-test, and recovers when it is back", async () => {
    const server = await startRedis();
    track({ close: () => server.stop() });
    const store = track(createRedisStore({ url: server.url, ...fast }));
    await store.registerService(serviceInput("orders"));
    const inFlight = store.listServices();
    await server.restart();
    await inFlight.catch(() => undefined);
    await vi.waitFor(() => store.ready(), { timeout: 5000, interval: 50 });
    expect(await store.getService("orders")).toBeUndefined();

    await server.stop();
    await expectUnavailable(store.getService("orders"), server.port);
    await expectUnavailable(store.consumeAssertionJti("orders", "j", START_SEC + 60), server.port);
  });
});

describe("createRedisStore options", () => {
  it.each<[string, Partial<Record<keyof RedisStoreOptions, unknown>>, string]>([
    ["no url", { url: undefined }, "url"],
    ["an http url", { url: "http://127.0.0.1:6379" }, "url"],
    ["text that is not a url", { url: "localhost" }, "url"],
    ["a key prefix with a hash tag", { keyPrefix: "{mesh}:" }, "keyPrefix"],
    ["a key prefix with a space", { keyPrefix: "my mesh:" }, "keyPrefix"],
    ["a zero connect timeout", { connectTimeoutMs: 0 }, "connectTimeoutMs"],
    ["an hour-long command timeout", { commandTimeoutMs: 3_600_000 }, "commandTimeoutMs"],
    ["a clock that is not a function", { now: Date.now() }, "now"],
    ["a logger without warn", { logger: {} }, "logger"],
  ])("refuses %s with ERR_STORE_OPTIONS, before connecting", (_, overrides, field) => {
    const options = { url: "redis://127.0.0.1:1", ...overrides } as RedisStoreOptions;
    expect(() => createRedisStore(options)).toThrow(expect.objectContaining({ code: "ERR_STORE_OPTIONS", field }));
  });
});

async function closedPort(): Promise<number> {
  const server = await listening(createServer());
  const port = portOf(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets: Socket[] = [];
  const server = await listening(createServer((socket) => sockets.push(socket)));
  return track({
    port: portOf(server),
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => { resolve(); }));
    },
  });
}

function listening(server: Server): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => { resolve(server); });
  });
}

function portOf(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("not listening on TCP");
  return address.port;
}
