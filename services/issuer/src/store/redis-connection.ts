/**
 * One ioredis connection that fails fast and fails closed. Redis being away must turn into
 * ERR_STORE_UNAVAILABLE within a bounded time, and a command must never run later than its
 * caller was told it failed: so no offline queue (a queued command that timed out would still
 * be sent on reconnect), no resending of unanswered commands (a rotation replayed after a blip
 * would read as reuse and revoke the family), and our own bounded wait for a connection instead.
 */
import { Redis } from "ioredis";
import { StoreError } from "./errors.js";
import { isPlainObject } from "./validate.js";

export const DEFAULT_KEY_PREFIX = "trustmesh:";
export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 2000;
export const DEFAULT_REDIS_CONNECT_TIMEOUT_MS = 2000;
const MAX_TIMEOUT_MS = 60_000;
/** Reconnect backoff cap: quick enough to notice Redis is back, slow enough not to hammer it. */
const MAX_RECONNECT_DELAY_MS = 2000;
/** A prefix with braces would become the Cluster hash tag of every key and break the layout. */
const KEY_PREFIX = /^[A-Za-z0-9:._-]{0,64}$/;

/** Same shape as @trustmesh/verifier's logger, so one pino child serves both. */
export interface StoreLogger {
  warn(fields: Readonly<Record<string, unknown>>, message: string): void;
}

export interface RedisConnectionOptions {
  /** `redis://[user:password@]host[:port][/db]` or `rediss://…`. Required: no default server. */
  readonly url: string;
  /** How long an operation waits for a connection, and TCP connect's own timeout. */
  readonly connectTimeoutMs?: number;
  /** How long one command may take before the operation fails. */
  readonly commandTimeoutMs?: number;
  /** Told once per outage that the connection is down; without it the error surfaces only as
   *  rejected operations. */
  readonly logger?: StoreLogger;
}

export interface RedisConnection {
  /** `redis host:port`: names the store in messages without the URL's credentials. */
  readonly label: string;
  readonly client: Redis;
  /** Waits (bounded) for a connection, sends, and maps every failure to a StoreError. */
  readonly run: <T>(send: (client: Redis) => Promise<T>) => Promise<T>;
  readonly close: () => Promise<void>;
}

export function optionsError(field: string, message: string): StoreError {
  return new StoreError("ERR_STORE_OPTIONS", `${field}: ${message}`, { field });
}

export function checkKeyPrefix(value: unknown): string {
  if (value === undefined) return DEFAULT_KEY_PREFIX;
  if (typeof value !== "string" || !KEY_PREFIX.test(value)) {
    throw optionsError("keyPrefix", "must be at most 64 of A-Z a-z 0-9 : . _ - (no braces)");
  }
  return value;
}

export function openRedisConnection(options: RedisConnectionOptions): RedisConnection {
  if (!isPlainObject(options)) throw optionsError("options", "must be an object");
  const label = `redis ${hostOf(options.url)}`;
  const connectTimeoutMs = checkTimeout("connectTimeoutMs", options.connectTimeoutMs, DEFAULT_REDIS_CONNECT_TIMEOUT_MS);
  const commandTimeoutMs = checkTimeout("commandTimeoutMs", options.commandTimeoutMs, DEFAULT_REDIS_COMMAND_TIMEOUT_MS);
  const logger = options.logger;
  if (logger !== undefined && typeof logger.warn !== "function") throw optionsError("logger", "must have warn()");

  const client = new Redis(options.url, {
    connectionName: "trustmesh-issuer",
    connectTimeout: connectTimeoutMs,
    commandTimeout: commandTimeoutMs,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
  });

  let closed = false;
  let reported = false;
  let lastReason = "not connected yet";
  let waiting: { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } | undefined;

  // Without a listener ioredis prints every reconnect failure to stderr.
  client.on("error", (error: unknown) => {
    lastReason = reasonOf(error);
    if (reported || closed) return;
    reported = true;
    logger?.warn({ store: label, reason: lastReason }, "issuer store connection lost; retrying");
  });
  client.on("ready", () => {
    reported = false;
    waiting?.resolve();
    waiting = undefined;
  });

  function connected(): Promise<void> {
    if (client.status === "ready") return Promise.resolve();
    waiting ??= signal();
    return withTimeout(waiting.promise, connectTimeoutMs, () => `no connection within ${connectTimeoutMs} ms (${lastReason})`);
  }

  function unavailable(error: unknown): StoreError {
    if (error instanceof StoreError) return error;
    // Only the reason text: ioredis errors carry the command's arguments, which can hold
    // sealed key material and record contents that have no place in a log line.
    return new StoreError("ERR_STORE_UNAVAILABLE", `issuer store (${label}) is unavailable: ${reasonOf(error)}`);
  }

  return {
    label,
    client,
    run: async <T>(send: (redis: Redis) => Promise<T>): Promise<T> => {
      if (closed) throw new StoreError("ERR_STORE_CLOSED", `the issuer store (${label}) is closed`);
      try {
        await connected();
        return await send(client);
      } catch (error) {
        throw unavailable(error);
      }
    },
    close: async () => {
      if (closed) return;
      closed = true;
      waiting?.reject(new StoreError("ERR_STORE_CLOSED", `the issuer store (${label}) is closed`));
      waiting = undefined;
      if (client.status === "ready") await client.quit().catch(() => undefined);
      client.disconnect();
    },
  };
}

function checkTimeout(field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0 || value > MAX_TIMEOUT_MS) {
    throw optionsError(field, `must be an integer number of milliseconds, 1-${MAX_TIMEOUT_MS}`);
  }
  return value;
}

function hostOf(url: unknown): string {
  if (typeof url !== "string") throw optionsError("url", "must be a redis:// or rediss:// URL");
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw optionsError("url", "must be a redis:// or rediss:// URL");
  }
  if ((parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") || parsed.hostname === "") {
    throw optionsError("url", "must be a redis:// or rediss:// URL with a host");
  }
  return `${parsed.hostname}:${parsed.port === "" ? "6379" : parsed.port}`;
}

/** What went wrong, in words an operator can act on, and never longer than a log line. */
function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return "unknown error";
  if (error.name === "MaxRetriesPerRequestError" || error.message === "Connection is closed.") {
    return "connection lost";
  }
  return error.message.slice(0, 200);
}

interface Signal {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/** One promise every waiting operation shares, so an outage adds no listener per operation. */
function signal(): Signal {
  const handlers: { resolve?: () => void; reject?: (error: Error) => void } = {};
  const promise = new Promise<void>((resolve, reject) => {
    handlers.resolve = resolve;
    handlers.reject = reject;
  });
  // A close() with nobody waiting must not surface as an unhandled rejection.
  promise.catch(() => undefined);
  return {
    promise,
    resolve: () => handlers.resolve?.(),
    reject: (error) => handlers.reject?.(error),
  };
}

function withTimeout(promise: Promise<void>, ms: number, reason: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(reason()));
    }, ms);
    promise
      .finally(() => {
        clearTimeout(timer);
      })
      .then(resolve, reject);
  });
}
