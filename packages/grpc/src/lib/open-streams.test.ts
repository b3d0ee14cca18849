import { InMemoryRevocationList, type RevocationQuery } from "@trustmesh/verifier";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { OpenStreams, type StreamEndReason } from "./open-streams.js";

const T0_SEC = 1_767_225_600;

function query(index: number, expSec: number): RevocationQuery {
  return { jti: `jti-${index}`, sub: "orders", iat: T0_SEC, exp: expSec, kid: "kid-1" };
}

describe("OpenStreams with 10,000 open streams", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0_SEC * 1000 });
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it("keeps one timer, and ends each stream at its own expiry, earliest first", () => {
    const streams = new OpenStreams({ now: Date.now, revocation: undefined });
    const ended: number[] = [];
    // Expiries spread over 15 minutes, opened in no particular order.
    for (let index = 0; index < 10_000; index++) {
      const expSec = T0_SEC + 1 + ((index * 7919) % 900);
      streams.open(query(index, expSec), () => ended.push(expSec), 0);
    }
    expect(vi.getTimerCount()).toBe(1);

    vi.advanceTimersByTime(450_000);
    expect(ended.length).toBeGreaterThan(4_000);
    expect(ended.every((expSec) => expSec <= T0_SEC + 450)).toBe(true);
    expect(vi.getTimerCount()).toBe(1);

    vi.advanceTimersByTime(451_000);
    expect(ended).toHaveLength(10_000);
    expect(ended).toEqual([...ended].sort((a, b) => a - b));
    expect(streams.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("drops its timer once every stream has been forgotten", () => {
    const streams = new OpenStreams({ now: Date.now, revocation: undefined });
    const handles = Array.from({ length: 10_000 }, (_, index) => streams.open(query(index, T0_SEC + 60), () => undefined, 0));
    for (const handle of handles) handle.forget();
    handles[0]?.forget();

    expect(streams.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("answers a burst of revocations with one pass, ending only the streams named", () => {
    const list = new InMemoryRevocationList();
    const check = vi.spyOn(list, "check");
    const streams = new OpenStreams({ now: Date.now, revocation: list });
    const ended: { index: number; reason: StreamEndReason }[] = [];
    for (let index = 0; index < 10_000; index++) {
      streams.open(query(index, T0_SEC + 600), (reason) => ended.push({ index, reason }), streams.changes);
    }

    for (let burst = 0; burst < 100; burst++) list.revokeToken(`jti-${burst * 3}`);
    vi.advanceTimersByTime(1);

    expect(check).toHaveBeenCalledTimes(10_000);
    expect(ended).toHaveLength(100);
    expect(ended.every(({ index, reason }) => index % 3 === 0 && reason === "ERR_TOKEN_REVOKED")).toBe(true);
    expect(streams.size).toBe(9_900);
  });
});
