import { buildKeyMap, type KeyMap } from "./lib/key-set.js";
import { defaultLogger } from "./lib/default-logger.js";
import { VerifierOptionsError } from "./options.js";
import type { KeySource, TrustedKey, VerifierLogger } from "./types.js";

export const DEFAULT_JWKS_REFRESH_INTERVAL_MS = 5 * 60_000;
export const DEFAULT_UNKNOWN_KID_COOLDOWN_MS = 30_000;
export const DEFAULT_JWKS_FETCH_TIMEOUT_MS = 5_000;
export const DEFAULT_JWKS_MAX_RESPONSE_BYTES = 256 * 1024;
const FIRST_RETRY_MS = 500;

export interface RemoteKeySourceOptions {
  /** The issuer's JWKS, e.g. `https://issuer.example/.well-known/jwks.json`. */
  readonly url: string | URL;
  readonly refreshIntervalMs?: number;
  /** An unknown `kid` triggers at most one refetch per this interval, so garbage cannot make us hammer the issuer. */
  readonly unknownKidCooldownMs?: number;
  readonly fetchTimeoutMs?: number;
  readonly maxResponseBytes?: number;
  readonly logger?: VerifierLogger;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
  /** Plain http to a host that is not loopback: keys could be swapped in transit. Never in production. */
  readonly dangerouslyAllowInsecureHttp?: boolean;
}

export interface RemoteKeySource extends KeySource {
  /** Fetches now; resolves true when a key set was loaded. Never rejects. */
  refresh(): Promise<boolean>;
}

/**
 * Keys fetched from the issuer's JWKS endpoint and refreshed on an interval. While the issuer is
 * unreachable it keeps serving the keys it has: a verifier must not start refusing every token
 * because the issuer (which is not on the hot path) is down.
 */
export function createRemoteKeySource(options: RemoteKeySourceOptions): RemoteKeySource {
  const url = checkedUrl(options);
  const refreshIntervalMs = positive("refreshIntervalMs", options.refreshIntervalMs, DEFAULT_JWKS_REFRESH_INTERVAL_MS);
  const cooldownMs = positive("unknownKidCooldownMs", options.unknownKidCooldownMs, DEFAULT_UNKNOWN_KID_COOLDOWN_MS);
  const timeoutMs = positive("fetchTimeoutMs", options.fetchTimeoutMs, DEFAULT_JWKS_FETCH_TIMEOUT_MS);
  const maxBytes = positive("maxResponseBytes", options.maxResponseBytes, DEFAULT_JWKS_MAX_RESPONSE_BYTES);
  const logger = options.logger ?? defaultLogger;
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;

  let keys: KeyMap | undefined;
  let inFlight: Promise<boolean> | undefined;
  let lastUnknownKidFetch = -Infinity;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const abort = new AbortController();
  let markReady: () => void = () => undefined;
  let markClosed: (error: Error) => void = () => undefined;
  const readyPromise = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    markClosed = reject;
  });
  // ready() is optional to await; an unobserved rejection at close must not crash the process.
  readyPromise.catch(() => undefined);

  async function load(): Promise<boolean> {
    try {
      const response = await doFetch(url, {
        headers: { accept: "application/jwk-set+json, application/json" },
        redirect: "error",
        signal: AbortSignal.any([abort.signal, AbortSignal.timeout(timeoutMs)]),
      });
      if (response.status !== 200) {
        await response.body?.cancel();
        throw new Error(`JWKS endpoint answered HTTP ${response.status}`);
      }
      const body = await readLimited(response, maxBytes);
      const fetched = buildKeyMap(JSON.parse(body), logger, keys);
      if (fetched.size === 0 && keys !== undefined && keys.size > 0) {
        // An issuer always publishes its active key: an empty set is a fault, not a rotation.
        throw new Error("JWKS has no usable key");
      }
      keys = fetched;
      markReady();
      return true;
    } catch (error) {
      if (!closed) logger.warn({ url: url.href, error: describe(error), keys: keys?.size ?? 0 }, "JWKS fetch failed; keeping the keys already loaded");
      return false;
    }
  }

  function refresh(): Promise<boolean> {
    if (closed) return Promise.resolve(false);
    inFlight ??= load().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  function schedule(delayMs: number): void {
    if (closed) return;
    timer = setTimeout(() => {
      void refresh().then((ok) => {
        // Until the first load succeeds, retry sooner, backing off up to the refresh interval.
        schedule(ok || keys !== undefined ? refreshIntervalMs : Math.min(delayMs * 2, refreshIntervalMs));
      });
    }, delayMs);
    timer.unref();
  }

  void refresh().then((ok) => {
    schedule(ok ? refreshIntervalMs : FIRST_RETRY_MS);
  });

  return {
    get loaded() {
      return keys !== undefined;
    },
    current: (kid: string): TrustedKey | undefined => keys?.get(kid),
    async resolve(kid: string): Promise<TrustedKey | undefined> {
      if (inFlight === undefined) {
        if (now() - lastUnknownKidFetch < cooldownMs) return keys?.get(kid);
        lastUnknownKidFetch = now();
      }
      await refresh();
      return keys?.get(kid);
    },
    refresh,
    ready: () => readyPromise,
    close() {
      closed = true;
      clearTimeout(timer);
      abort.abort();
      markClosed(new Error("key source closed before keys were loaded"));
      return Promise.resolve();
    },
  };
}

async function readLimited(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > maxBytes) {
    // Unread bodies keep their connection open; cancel so a hostile endpoint cannot pile them up.
    await response.body?.cancel();
    throw new Error("JWKS response is larger than the limit");
  }
  if (response.body === null) return "";
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength;
    if (total > maxBytes) throw new Error("JWKS response is larger than the limit");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function checkedUrl(options: RemoteKeySourceOptions): URL {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new VerifierOptionsError("url", "is not a valid URL");
  }
  if (url.username !== "" || url.password !== "") throw new VerifierOptionsError("url", "must not carry credentials");
  if (url.protocol === "https:") return url;
  if (url.protocol === "http:" && (isLoopback(url.hostname) || options.dangerouslyAllowInsecureHttp === true)) return url;
  throw new VerifierOptionsError("url", "must be https (plain http is allowed to loopback hosts only)");
}

function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

function positive(option: string, value: number | undefined, fallback: number): number {
  const chosen = value ?? fallback;
  if (!Number.isInteger(chosen) || chosen <= 0) throw new VerifierOptionsError(option, "must be a positive integer");
  return chosen;
}

/** fetch wraps the reason (refused, redirect, timeout) in `cause`; name it so logs can tell. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return "unknown error";
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : "";
  return `${error.name}: ${error.message}${cause}`;
}
