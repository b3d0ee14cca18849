/**
 * gRPC health that tells the truth about revocation: NOT_SERVING until the revocation feed has
 * replayed the stream, and again whenever it has lost touch with it, so load balancers keep
 * traffic away from an instance that could not refuse a revoked token.
 */

export type HealthStatus = "SERVING" | "NOT_SERVING";

/** grpc-health-check's HealthImplementation has this shape. */
export interface HealthSetter {
  setStatus(service: string, status: HealthStatus): void;
}

/** The live revocation subscriber, as far as health is concerned: serving only while "fresh". */
export interface RevocationFeedState {
  readonly state: string;
  onChange(listener: () => void): () => void;
}

export const DEFAULT_HEALTH_CHECK_INTERVAL_MS = 500;

/** Keeps `services` (use "" for the whole server) in step with the feed; returns the stop. */
export function bindRevocationHealth(health: HealthSetter, feed: RevocationFeedState, options: { services: readonly string[]; intervalMs?: number }): () => void {
  let current: HealthStatus | undefined;
  const update = (): void => {
    const next: HealthStatus = feed.state === "fresh" ? "SERVING" : "NOT_SERVING";
    if (next === current) return;
    current = next;
    for (const service of options.services) health.setStatus(service, next);
  };
  update();
  const unsubscribe = feed.onChange(update);
  // Staleness is a matter of time passing without news, which no event announces.
  const timer = setInterval(update, options.intervalMs ?? DEFAULT_HEALTH_CHECK_INTERVAL_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    unsubscribe();
  };
}
