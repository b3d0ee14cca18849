import { credentials as grpcCredentials, type ChannelCredentials, type ChannelOptions } from "@grpc/grpc-js";
import { issuerV1 } from "@trustmesh/proto";
import { createAssertionSigner, type ServicePrivateJwk } from "./lib/client-assertion.js";
import { createIssuerPort, type IssuerClient } from "./lib/client-issuer.js";
import { TokenCache, type TokenCacheLogger } from "./lib/client-token-cache.js";
import { optionsError, TokenSourceError } from "./token-source-error.js";

export type { ServicePrivateJwk } from "./lib/client-assertion.js";

/** Access tokens for the services this one calls, one per (audience, scopes), kept fresh. */
export interface TokenSource {
  /**
   * A token for `audience` carrying at least `scopes`: the cached one while it lasts, else a
   * new one. Rejects with `TokenSourceError` (see its codes); never with token text in it.
   */
  getToken(audience: string, scopes?: readonly string[]): Promise<string>;
  /** Stops every timer, cancels calls in flight, and closes the issuer client it created. */
  close(): Promise<void>;
}

/** Where the issuer is: an address to dial, or a client you made (and keep and close). */
export type TokenIssuerTarget =
  | {
      /** host:port of the issuer's gRPC listener. */
      readonly address: string;
      /** Default TLS with the system's roots; `credentials.createInsecure()` for local development only. */
      readonly credentials?: ChannelCredentials;
      readonly channelOptions?: ChannelOptions;
    }
  | IssuerClient;

export type TokenSourceLogger = TokenCacheLogger;

export interface TokenSourceOptions {
  readonly issuer: TokenIssuerTarget;
  /** The issuer's identifier (its `iss`): the `aud` of every client assertion. Required. */
  readonly issuerUrl: string;
  /** This service's registered id: `iss` and `sub` of its assertions. Required. */
  readonly serviceId: string;
  /** This service's private key (Ed25519 or P-256) with the `kid` it was registered under. */
  readonly privateJwk: ServicePrivateJwk;
  /** Renew at this fraction of a token's lifetime (less up to `jitterRatio` of it). */
  readonly refreshAheadRatio?: number;
  /** Spread of renewal times and retry delays, so replicas do not all call at once. */
  readonly jitterRatio?: number;
  /** First retry delay after a failure; doubled each time up to `maxRetryMs`. */
  readonly minRetryMs?: number;
  /** Longest retry delay, and how long a refusal is remembered before asking again. */
  readonly maxRetryMs?: number;
  /** Deadline of each call to the issuer. */
  readonly callTimeoutMs?: number;
  /** Milliseconds since the epoch; injectable so tests can move time. Timers still run on real time. */
  readonly now?: () => number;
  /** `{ debug, warn }` (a pino logger will do). Never given a token. Default: warnings through process warnings. */
  readonly logger?: TokenSourceLogger;
}

export const DEFAULT_REFRESH_AHEAD_RATIO = 0.8;
export const DEFAULT_JITTER_RATIO = 0.1;
export const DEFAULT_MIN_RETRY_MS = 500;
export const DEFAULT_MAX_RETRY_MS = 30_000;
export const DEFAULT_ISSUER_CALL_TIMEOUT_MS = 10_000;

/** RFC 6749 scope-token characters, as the issuer accepts them. */
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/;

/**
 * A token source for a service that authenticates to the issuer with its own key (RFC 7523
 * client assertion). 1,000 concurrent `getToken` calls on a cold cache make one IssueToken.
 */
export function createTokenSource(options: TokenSourceOptions): TokenSource {
  const merged = checkedOptions(options);
  const { client, ownsClient } = issuerClient(options.issuer);
  const signer = createAssertionSigner({ serviceId: options.serviceId, issuerUrl: options.issuerUrl, privateJwk: options.privateJwk });
  const issuer = createIssuerPort({ client, ownsClient, signer, callTimeoutMs: merged.callTimeoutMs, now: merged.now });
  const cache = new TokenCache({ ...merged, logger: guarded(merged.logger), issuer, random: Math.random });
  return {
    async getToken(audience, scopes = []) {
      const request = checkedTokenRequest(audience, scopes);
      return cache.get(request.audience, request.scopes);
    },
    close: () => cache.close(),
  };
}

/** Audience and scopes as the cache keys them: scopes deduplicated and sorted. */
export function checkedTokenRequest(audience: unknown, scopes: unknown): { audience: string; scopes: readonly string[] } {
  if (typeof audience !== "string" || audience === "" || audience.length > 256) {
    throw new TokenSourceError("ERR_TOKEN_REQUEST_INVALID", "audience must be one non-empty service id");
  }
  if (!Array.isArray(scopes) || !scopes.every((scope) => typeof scope === "string" && SCOPE.test(scope))) {
    throw new TokenSourceError("ERR_TOKEN_REQUEST_INVALID", "scopes must be a list of scope tokens without spaces", { audience });
  }
  return { audience, scopes: Object.freeze([...new Set(scopes as string[])].sort()) };
}

function checkedOptions(options: TokenSourceOptions) {
  if (typeof options !== "object" || options === null) throw optionsError("options", "must be an object");
  if (typeof options.serviceId !== "string" || options.serviceId === "") throw optionsError("serviceId", "is required: this service's registered id");
  if (typeof options.issuerUrl !== "string" || !URL.canParse(options.issuerUrl)) throw optionsError("issuerUrl", "is required: the issuer's identifier, a URL");
  const merged = {
    refreshAheadRatio: options.refreshAheadRatio ?? DEFAULT_REFRESH_AHEAD_RATIO,
    jitterRatio: options.jitterRatio ?? DEFAULT_JITTER_RATIO,
    minRetryMs: options.minRetryMs ?? DEFAULT_MIN_RETRY_MS,
    maxRetryMs: options.maxRetryMs ?? DEFAULT_MAX_RETRY_MS,
    callTimeoutMs: options.callTimeoutMs ?? DEFAULT_ISSUER_CALL_TIMEOUT_MS,
    now: options.now ?? Date.now,
    logger: options.logger ?? defaultLogger,
  };
  if (!inRange(merged.refreshAheadRatio, 0, 1, false)) throw optionsError("refreshAheadRatio", "must be above 0 and below 1");
  if (!inRange(merged.jitterRatio, 0, 1, true)) throw optionsError("jitterRatio", "must be from 0 up to (not including) 1");
  if (!positive(merged.minRetryMs)) throw optionsError("minRetryMs", "must be a positive number of milliseconds");
  if (!positive(merged.maxRetryMs) || merged.maxRetryMs < merged.minRetryMs) throw optionsError("maxRetryMs", "must be a number of milliseconds, at least minRetryMs");
  if (!positive(merged.callTimeoutMs)) throw optionsError("callTimeoutMs", "must be a positive number of milliseconds");
  if (typeof merged.now !== "function") throw optionsError("now", "must be a function returning milliseconds since the epoch");
  if (typeof merged.logger.debug !== "function" || typeof merged.logger.warn !== "function") throw optionsError("logger", "must have debug(fields, message) and warn(fields, message)");
  return merged;
}

function issuerClient(target: TokenIssuerTarget): { client: IssuerClient; ownsClient: boolean } {
  if (typeof target !== "object" || target === null) throw optionsError("issuer", "must be { address } or a TokenIssuerClient");
  if ("address" in target) {
    if (typeof target.address !== "string" || target.address === "") throw optionsError("issuer", "address must be host:port");
    const channel = target.credentials ?? grpcCredentials.createSsl();
    return { client: new issuerV1.TokenIssuerClient(target.address, channel, target.channelOptions), ownsClient: true };
  }
  if (typeof target.issueToken !== "function" || typeof target.refreshToken !== "function") throw optionsError("issuer", "must be { address } or a TokenIssuerClient");
  return { client: target, ownsClient: false };
}

function inRange(value: number, min: number, max: number, minIncluded: boolean): boolean {
  return typeof value === "number" && (minIncluded ? value >= min : value > min) && value < max;
}

function positive(value: number): boolean {
  return typeof value === "number" && Number.isFinite(value) && value > 0;
}

/** Renewals run in the background: a logger that throws must not become an unhandled rejection. */
function guarded(logger: TokenSourceLogger): TokenSourceLogger {
  const call = (write: () => void): void => {
    try {
      write();
    } catch {
      // Nothing better to do with a failing logger than to keep the token source working.
    }
  };
  return {
    debug: (fields, message) => {
      call(() => {
        logger.debug(fields, message);
      });
    },
    warn: (fields, message) => {
      call(() => {
        logger.warn(fields, message);
      });
    },
  };
}

const defaultLogger: TokenSourceLogger = {
  debug() {
    // Renewals are routine; only failures are worth a warning by default.
  },
  warn(fields, message) {
    process.emitWarning(`${message} ${JSON.stringify(fields)}`, { code: "TRUSTMESH_TOKEN_SOURCE" });
  },
};
