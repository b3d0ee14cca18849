/**
 * The interceptor's Prometheus metrics, registered in the registry the service passes in.
 * prom-client is an optional peer dependency: it is loaded here, and only when metrics are asked
 * for, so a service without it can still import the package. Labels take values from closed sets
 * only (outcome and reason codes), never a caller id or a jti.
 */
import { createRequire } from "node:module";
import type { CacheStats } from "@trustmesh/verifier";
import type * as PromClient from "prom-client";
import type { AuthFailureCode } from "../auth-failure-status.js";
import { InterceptorOptionsError } from "../errors.js";
import type { StreamEndReason } from "./open-streams.js";

export type MetricsRegistry = PromClient.Registry | PromClient.Registry<PromClient.OpenMetricsContentType>;

export interface InterceptorMetrics {
  /** One authorization decision (every call to a non-public method) and how long it took. */
  decided(outcome: "ok" | AuthFailureCode, seconds: number): void;
  streamEnded(reason: StreamEndReason): void;
}

export interface MetricSources {
  readonly openStreams: () => number;
  /** Present when the verifier reports its token cache. */
  readonly cacheStats: (() => CacheStats) | undefined;
}

/** From a warm-cache hit (a few µs) through a cold EdDSA verify (~0.1 ms) to a JWKS fetch. */
export const VERIFY_DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.01, 0.1,
]);

export const METRIC_NAMES = Object.freeze({
  verifications: "trustmesh_verifications_total",
  verifyDuration: "trustmesh_verify_duration_seconds",
  streamsEnded: "trustmesh_streams_ended_total",
  openStreams: "trustmesh_open_streams",
  cacheHits: "trustmesh_verifier_cache_hits_total",
  cacheMisses: "trustmesh_verifier_cache_misses_total",
  cacheEntries: "trustmesh_verifier_cache_entries",
});

export function createInterceptorMetrics(registry: MetricsRegistry, sources: MetricSources): InterceptorMetrics {
  const prom = loadPromClient();
  const cacheNames: string[] = [METRIC_NAMES.cacheHits, METRIC_NAMES.cacheMisses, METRIC_NAMES.cacheEntries];
  const names = Object.values(METRIC_NAMES).filter((name) => sources.cacheStats !== undefined || !cacheNames.includes(name));
  // Checked up front, so a clash leaves the registry as it was rather than half-filled.
  const taken = names.filter((name) => registry.getSingleMetric(name) !== undefined);
  if (taken.length > 0) throw new InterceptorOptionsError("metrics", `the registry already has ${taken.join(", ")}: give each interceptor its own registry`);
  const registers = [registry];

  const verifications = new prom.Counter({
    name: METRIC_NAMES.verifications,
    help: "Authorization decisions on calls to non-public methods, by outcome: ok or the refusal code.",
    labelNames: ["outcome"],
    registers,
  });
  const duration = new prom.Histogram({
    name: METRIC_NAMES.verifyDuration,
    help: "Time to authorize a call: token parsing, verification and policy.",
    buckets: [...VERIFY_DURATION_BUCKETS],
    registers,
  });
  const ended = new prom.Counter({
    name: METRIC_NAMES.streamsEnded,
    help: "Open streams the interceptor ended, by reason: token expired, revoked, or revocation state unavailable.",
    labelNames: ["reason"],
    registers,
  });
  new prom.Gauge({
    name: METRIC_NAMES.openStreams,
    help: "Streaming calls admitted and still open, watched for expiry and revocation.",
    registers,
    collect() {
      this.set(sources.openStreams());
    },
  });
  if (sources.cacheStats !== undefined) registerCacheMetrics(prom, registers, sources.cacheStats);

  return {
    decided(outcome, seconds) {
      verifications.inc({ outcome });
      duration.observe(seconds);
    },
    streamEnded(reason) {
      ended.inc({ reason });
    },
  };
}

function registerCacheMetrics(prom: typeof PromClient, registers: MetricsRegistry[], stats: () => CacheStats): void {
  // The verifier keeps running totals; a scrape adds what is new since the last one.
  const counter = (name: string, help: string, read: (current: CacheStats) => number): void => {
    let counted = 0;
    new prom.Counter({
      name,
      help,
      registers,
      collect() {
        const total = read(stats());
        if (total > counted) this.inc(total - counted);
        counted = total;
      },
    });
  };
  counter(METRIC_NAMES.cacheHits, "Verifications answered from the verifier's token cache.", (current) => current.hits);
  counter(METRIC_NAMES.cacheMisses, "Verifications that had to check the token's signature and claims.", (current) => current.misses);
  new prom.Gauge({
    name: METRIC_NAMES.cacheEntries,
    help: "Tokens in the verifier's cache.",
    registers,
    collect() {
      this.set(stats().size);
    },
  });
}

function loadPromClient(): typeof PromClient {
  try {
    return createRequire(import.meta.url)("prom-client") as typeof PromClient;
  } catch {
    throw new InterceptorOptionsError("metrics", "needs the prom-client package, which could not be loaded");
  }
}
