import { describe, expect, it } from "vitest";
import { bindRevocationHealth, type HealthStatus } from "./revocation-health.js";

function feed(initial: string) {
  const listeners = new Set<() => void>();
  return {
    state: initial,
    onChange(listener: () => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit() {
      for (const listener of listeners) listener();
    },
    listeners,
  };
}

function recorder() {
  const seen: [string, HealthStatus][] = [];
  return { seen, setStatus: (service: string, status: HealthStatus) => seen.push([service, status]) };
}

describe("revocation-aware health", () => {
  it("is NOT_SERVING while replaying, SERVING once fresh, NOT_SERVING again when stale", () => {
    const source = feed("replaying");
    const health = recorder();
    const stop = bindRevocationHealth(health, source, { services: ["", "demo.Payments"], intervalMs: 60_000 });
    expect(health.seen).toEqual([["", "NOT_SERVING"], ["demo.Payments", "NOT_SERVING"]]);
    source.state = "fresh";
    source.emit();
    source.emit();
    expect(health.seen.slice(2)).toEqual([["", "SERVING"], ["demo.Payments", "SERVING"]]);
    source.state = "stale";
    source.emit();
    expect(health.seen.at(-1)).toEqual(["demo.Payments", "NOT_SERVING"]);
    stop();
    expect(source.listeners.size).toBe(0);
  });

  it("notices staleness with no event, on its interval", async () => {
    const source = feed("fresh");
    let markStale: () => void = () => undefined;
    const changed = new Promise<void>((resolve) => {
      markStale = resolve;
    });
    const stop = bindRevocationHealth(
      {
        setStatus: (_service, status) => {
          if (status === "NOT_SERVING") markStale();
        },
      },
      source,
      { services: [""], intervalMs: 5 },
    );
    source.state = "stale";
    await expect(changed).resolves.toBeUndefined();
    stop();
  });
});
