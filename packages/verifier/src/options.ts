import type { Algorithm, JsonWebKeySet, KeySource, RevocationCheck, VerifierLogger } from "./types.js";
import { SUPPORTED_ALGORITHMS } from "./types.js";

export const DEFAULT_ALGORITHMS: readonly Algorithm[] = SUPPORTED_ALGORITHMS;
export const DEFAULT_CLOCK_TOLERANCE_SEC = 30;
export const MAX_CLOCK_TOLERANCE_SEC = 300;
export const DEFAULT_MAX_TOKEN_LIFETIME_SEC = 900;
/** The profile's ceiling: no configuration may accept tokens that live longer than 15 minutes. */
export const MAX_TOKEN_LIFETIME_SEC = 900;
export const DEFAULT_MAX_TOKEN_BYTES = 8192;
export const DEFAULT_CACHE_MAX_ENTRIES = 10_000;

export interface VerifierOptions {
  /** The issuer URL, compared exactly with `iss`. Required: trust inputs have no default. */
  readonly issuer: string;
  /** This service's audience, compared exactly with `aud`. Required. */
  readonly audience: string;
  /** A static key set. Exactly one of `jwks` and `keySource`. */
  readonly jwks?: JsonWebKeySet;
  /** A live key source, such as `createRemoteKeySource`. */
  readonly keySource?: KeySource;
  readonly algorithms?: readonly Algorithm[];
  readonly clockToleranceSec?: number;
  readonly maxTokenLifetimeSec?: number;
  readonly maxTokenBytes?: number;
  readonly revocation?: RevocationCheck;
  /** Entries of the verified-token cache; 0 turns it off. */
  readonly cacheMaxEntries?: number;
  /** Milliseconds since the epoch; injectable so tests can freeze time. */
  readonly now?: () => number;
  readonly logger?: VerifierLogger;
}

export type VerifierOptionsErrorCode = "ERR_VERIFIER_OPTIONS";

/** Thrown by `createVerifier` for options that cannot be used; says which option. */
export class VerifierOptionsError extends Error {
  override readonly name = "VerifierOptionsError";
  readonly code: VerifierOptionsErrorCode = "ERR_VERIFIER_OPTIONS";
  readonly option: string;

  constructor(option: string, message: string) {
    super(`${option}: ${message}`);
    this.option = option;
  }
}

export interface ResolvedOptions {
  readonly issuer: string;
  readonly audience: string;
  readonly algorithms: ReadonlySet<Algorithm>;
  readonly clockToleranceSec: number;
  readonly maxTokenLifetimeSec: number;
  readonly maxTokenBytes: number;
  readonly revocation: RevocationCheck | undefined;
  readonly cacheMaxEntries: number;
  readonly now: () => number;
}

export function resolveOptions(options: VerifierOptions): ResolvedOptions {
  requireNonEmptyString("issuer", options.issuer);
  requireNonEmptyString("audience", options.audience);
  const algorithms: unknown = options.algorithms ?? DEFAULT_ALGORITHMS;
  if (!Array.isArray(algorithms) || algorithms.length === 0) {
    throw new VerifierOptionsError("algorithms", "must be a non-empty array");
  }
  for (const alg of algorithms as unknown[]) {
    if (!SUPPORTED_ALGORITHMS.includes(alg as Algorithm)) {
      throw new VerifierOptionsError("algorithms", `only ${SUPPORTED_ALGORITHMS.join(", ")} can be allowed`);
    }
  }
  if (options.revocation !== undefined && typeof options.revocation.check !== "function") {
    throw new VerifierOptionsError("revocation", "must have a check(token) method");
  }
  if (options.now !== undefined && typeof options.now !== "function") {
    throw new VerifierOptionsError("now", "must be a function returning epoch milliseconds");
  }
  return {
    issuer: options.issuer,
    audience: options.audience,
    algorithms: new Set(algorithms as Algorithm[]),
    clockToleranceSec: integerIn("clockToleranceSec", options.clockToleranceSec, DEFAULT_CLOCK_TOLERANCE_SEC, 0, MAX_CLOCK_TOLERANCE_SEC),
    maxTokenLifetimeSec: integerIn("maxTokenLifetimeSec", options.maxTokenLifetimeSec, DEFAULT_MAX_TOKEN_LIFETIME_SEC, 1, MAX_TOKEN_LIFETIME_SEC),
    maxTokenBytes: integerIn("maxTokenBytes", options.maxTokenBytes, DEFAULT_MAX_TOKEN_BYTES, 256, 65_536),
    revocation: options.revocation,
    cacheMaxEntries: integerIn("cacheMaxEntries", options.cacheMaxEntries, DEFAULT_CACHE_MAX_ENTRIES, 0, 10_000_000),
    now: options.now ?? Date.now,
  };
}

function requireNonEmptyString(option: string, value: unknown): void {
  if (typeof value !== "string" || value.length === 0) throw new VerifierOptionsError(option, "is required and must be a non-empty string");
}

function integerIn(option: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const chosen = value ?? fallback;
  if (!Number.isInteger(chosen) || chosen < min || chosen > max) {
    throw new VerifierOptionsError(option, `must be an integer from ${min} to ${max}`);
  }
  return chosen;
}
