/**
 * The engine behind createTokenSource: one entry per (audience, sorted scopes), each renewed by
 * at most one attempt at a time (single flight), ahead of expiry, and retried with jittered
 * exponential backoff while its current token still serves. Refresh tokens are taken out of the
 * entry before they are sent, so none is ever presented twice, whatever happens to the call.
 */
import { TokenSourceError } from "../token-source-error.js";
import type { Grant, IssuerPort } from "./client-issuer.js";

export interface TokenCacheLogger {
  debug(fields: Readonly<Record<string, unknown>>, message: string): void;
  warn(fields: Readonly<Record<string, unknown>>, message: string): void;
}

export interface TokenCacheOptions {
  readonly issuer: IssuerPort;
  readonly refreshAheadRatio: number;
  readonly jitterRatio: number;
  readonly minRetryMs: number;
  readonly maxRetryMs: number;
  readonly now: () => number;
  readonly random: () => number;
  readonly logger: TokenCacheLogger;
}

/** A token is not handed out in its last seconds, so that it does not expire on the way. */
export const EXPIRY_MARGIN_MS = 5_000;
const MAX_TIMER_MS = 2_147_483_647;

interface Entry {
  readonly audience: string;
  readonly scopes: readonly string[];
  token: { readonly value: string; readonly refreshAt: number; readonly usableUntil: number } | undefined;
  refresh: { readonly value: string; readonly usableUntil: number } | undefined;
  /** The one attempt in flight; it never rejects (the outcome lands in `token` or `failure`). */
  attempt: Promise<void> | undefined;
  failure: { readonly error: TokenSourceError; readonly attempts: number; readonly retryAt: number } | undefined;
  timer: NodeJS.Timeout | undefined;
}

export class TokenCache {
  readonly #options: TokenCacheOptions;
  readonly #entries = new Map<string, Entry>();
  #closed = false;

  constructor(options: TokenCacheOptions) {
    this.#options = options;
  }

  get(audience: string, scopes: readonly string[]): Promise<string> {
    if (this.#closed) return Promise.reject(closedError());
    const entry = this.#entry(audience, scopes);
    const now = this.#options.now();
    if (entry.token !== undefined && now < entry.token.usableUntil) {
      if (now >= entry.token.refreshAt) this.#renewUnlessHeldOff(entry, now);
      return Promise.resolve(entry.token.value);
    }
    return this.#fresh(entry, now);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const attempts: Promise<void>[] = [];
    for (const entry of this.#entries.values()) {
      clearTimeout(entry.timer);
      if (entry.attempt !== undefined) attempts.push(entry.attempt);
    }
    this.#options.issuer.close();
    await Promise.all(attempts);
    this.#entries.clear();
  }

  #entry(audience: string, scopes: readonly string[]): Entry {
    const key = JSON.stringify([audience, scopes]);
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = { audience, scopes, token: undefined, refresh: undefined, attempt: undefined, failure: undefined, timer: undefined };
      this.#entries.set(key, entry);
    }
    return entry;
  }

  async #fresh(entry: Entry, now: number): Promise<string> {
    if (entry.attempt === undefined) {
      // Callers hammering an issuer that just failed get the same answer until the backoff is up.
      if (entry.failure !== undefined && now < entry.failure.retryAt) throw entry.failure.error;
      this.#renew(entry);
    }
    await entry.attempt;
    if (this.#closed) throw closedError();
    if (entry.token !== undefined && this.#options.now() < entry.token.usableUntil) return entry.token.value;
    throw entry.failure?.error ?? new TokenSourceError("ERR_ISSUER_FAILED", "the token the issuer sent had expired on arrival (is the clock right?)", describe(entry));
  }

  #renewUnlessHeldOff(entry: Entry, now: number): void {
    if (entry.attempt === undefined && (entry.failure === undefined || now >= entry.failure.retryAt)) this.#renew(entry);
  }

  #renew(entry: Entry): void {
    clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.attempt = this.#obtain(entry)
      .then(
        (grant) => {
          this.#succeeded(entry, grant);
        },
        (error: unknown) => {
          this.#failed(entry, error);
        },
      )
      .finally(() => {
        entry.attempt = undefined;
      });
  }

  async #obtain(entry: Entry): Promise<Grant & { via: "refresh" | "issue" }> {
    const { issuer, now } = this.#options;
    const refresh = entry.refresh;
    entry.refresh = undefined;
    if (refresh !== undefined && now() < refresh.usableUntil) {
      try {
        return { ...(await issuer.refresh(refresh.value, entry.audience, entry.scopes)), via: "refresh" };
      } catch (error) {
        if (this.#closed) throw error;
        // Spent or not, it is gone: a timeout may have hidden a rotation, and presenting it
        // again would revoke the whole family. The assertion proves who we are without it.
        this.#options.logger.debug({ ...describe(entry), code: codeOf(error) }, "refresh token not accepted; issuing with the client assertion");
      }
    }
    return { ...(await issuer.issue(entry.audience, entry.scopes)), via: "issue" };
  }

  #succeeded(entry: Entry, grant: Grant & { via: "refresh" | "issue" }): void {
    if (this.#closed) return;
    const { refreshAheadRatio, jitterRatio, random } = this.#options;
    const margin = Math.min(EXPIRY_MARGIN_MS, grant.lifetimeMs * 0.1);
    const refreshAt = grant.startedAt + grant.lifetimeMs * refreshAheadRatio * (1 - jitterRatio * random());
    entry.token = { value: grant.accessToken, refreshAt, usableUntil: grant.startedAt + grant.lifetimeMs - margin };
    entry.refresh = grant.refreshToken === undefined ? undefined : { value: grant.refreshToken, usableUntil: grant.startedAt + grant.refreshLifetimeMs - margin };
    entry.failure = undefined;
    this.#schedule(entry, refreshAt - this.#options.now());
    this.#options.logger.debug({ ...describe(entry), via: grant.via, expiresInSec: grant.lifetimeMs / 1000 }, "token obtained");
  }

  #failed(entry: Entry, thrown: unknown): void {
    if (this.#closed) return;
    const { now, maxRetryMs, logger } = this.#options;
    const error = thrown instanceof TokenSourceError ? thrown : new TokenSourceError("ERR_ISSUER_FAILED", "the token source failed unexpectedly", { audience: entry.audience, scopes: entry.scopes, cause: thrown });
    const attempts = (entry.failure?.attempts ?? 0) + 1;
    // A refusal will not change in a few milliseconds: wait the longest, and only on demand.
    const refused = error.code === "ERR_TOKEN_DENIED" || error.code === "ERR_TOKEN_REQUEST_INVALID";
    const delay = refused ? maxRetryMs : this.#backoff(attempts);
    entry.failure = { error, attempts, retryAt: now() + delay };
    const serving = entry.token !== undefined && now() < entry.token.usableUntil;
    if (serving && !refused) this.#schedule(entry, delay);
    const fields = { ...describe(entry), code: error.code, issuerStatus: error.issuerStatus, attempt: attempts, retryInMs: Math.round(delay), servingCachedToken: serving };
    if (attempts === 1) logger.warn(fields, error.message);
    else logger.debug(fields, error.message);
  }

  #backoff(attempts: number): number {
    const { minRetryMs, maxRetryMs, jitterRatio, random } = this.#options;
    return Math.min(maxRetryMs, minRetryMs * 2 ** (attempts - 1)) * (1 - jitterRatio * random());
  }

  #schedule(entry: Entry, delayMs: number): void {
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      if (!this.#closed && entry.attempt === undefined) this.#renew(entry);
    }, Math.min(MAX_TIMER_MS, Math.max(0, delayMs)));
    // Renewal is a courtesy to the next call; it must never keep a process alive.
    entry.timer.unref();
  }
}

function describe(entry: Entry): { audience: string; scopes: readonly string[] } {
  return { audience: entry.audience, scopes: entry.scopes };
}

function codeOf(error: unknown): string | undefined {
  return error instanceof TokenSourceError ? error.code : undefined;
}

function closedError(): TokenSourceError {
  return new TokenSourceError("ERR_TOKEN_SOURCE_CLOSED", "the token source is closed");
}
