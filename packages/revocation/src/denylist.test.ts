import { describe, expect, it } from "vitest";
import { Denylist } from "./denylist.js";
import { RevocationError } from "./errors.js";
import { tokenQuery } from "./test-support/helpers.js";

const T0_MS = 1_800_000_000_000;
const T0 = T0_MS / 1000;
const TOLERANCE = 30;

function frozen(): { list: Denylist; advance: (seconds: number) => void } {
  let now = T0_MS;
  const list = new Denylist({ toleranceSec: TOLERANCE, now: () => now });
  return {
    list,
    advance: (seconds) => {
      now += seconds * 1000;
    },
  };
}

describe("Denylist", () => {
  it("revokes a jti and nothing else", () => {
    const { list } = frozen();
    const revoked = tokenQuery({ iat: T0, exp: T0 + 600 });
    expect(list.revokeToken(revoked.jti, revoked.exp)).toBe(true);
    expect(list.check(revoked)).toBe("revoked-jti");
    expect(list.check(tokenQuery({ iat: T0, exp: T0 + 600 }))).toBe("active");
  });

  it("revokes a subject's tokens issued before the cut-off, not those issued at or after it", () => {
    const { list } = frozen();
    list.revokeSubject("orders", T0, T0 + 900);
    expect(list.check(tokenQuery({ sub: "orders", iat: T0 - 1 }))).toBe("revoked-subject");
    expect(list.check(tokenQuery({ sub: "orders", iat: T0 }))).toBe("active");
    expect(list.check(tokenQuery({ sub: "billing", iat: T0 - 1 }))).toBe("active");
  });

  it("keeps the latest subject cut-off and the latest drop time", () => {
    const { list, advance } = frozen();
    expect(list.revokeSubject("orders", T0 + 10, T0 + 910)).toBe(true);
    expect(list.revokeSubject("orders", T0, T0 + 900)).toBe(false);
    expect(list.check(tokenQuery({ sub: "orders", iat: T0 + 5 }))).toBe("revoked-subject");
    advance(900 + TOLERANCE + 5);
    list.prune();
    expect(list.size.subjects).toBe(1);
  });

  it("revokes every token of a signing key", () => {
    const { list } = frozen();
    list.revokeKey("kid-1", T0 + 900);
    expect(list.check(tokenQuery({ kid: "kid-1" }))).toBe("revoked-kid");
    expect(list.check(tokenQuery({ kid: "kid-2" }))).toBe("active");
  });

  it("applies an event twice with the same result (replay is harmless)", () => {
    const { list } = frozen();
    const event = { id: "e-1", target: { $case: "token" as const, value: { jti: "j-1", sub: "orders", expUnix: T0 + 60 } }, reason: "", actor: "", revokedAtUnixMs: T0_MS };
    expect(list.apply(event)).toBe(true);
    expect(list.apply(event)).toBe(false);
    expect(list.size).toEqual({ tokens: 1, subjects: 0, keys: 0 });
  });

  it.each([
    ["an event without a target", undefined],
    ["a token revocation without a jti", { $case: "token" as const, value: { jti: "", sub: "orders", expUnix: T0 + 60 } }],
    ["a key revocation without a kid", { $case: "signingKey" as const, value: { kid: "", expiresAtUnix: T0 + 60 } }],
  ])("ignores %s", (_, target) => {
    const { list } = frozen();
    expect(list.apply({ id: "e", target, reason: "", actor: "", revokedAtUnixMs: 0 })).toBe(false);
    expect(list.size).toEqual({ tokens: 0, subjects: 0, keys: 0 });
  });

  it("does not store what can no longer verify (a replayed old event)", () => {
    const { list } = frozen();
    expect(list.revokeToken("old", T0 - TOLERANCE - 1)).toBe(false);
    expect(list.revokeToken("just-valid", T0 - TOLERANCE)).toBe(true);
    expect(list.size.tokens).toBe(1);
  });

  it("drops each entry once exp + tolerance has passed, and is back to empty", () => {
    const { list, advance } = frozen();
    const short = tokenQuery({ sub: "billing", iat: T0, exp: T0 + 60 });
    const long = tokenQuery({ sub: "billing", iat: T0, exp: T0 + 600 });
    list.revokeToken(short.jti, short.exp);
    list.revokeToken(long.jti, long.exp);
    list.revokeSubject("orders", T0, T0 + 300);
    list.revokeKey("kid-1", T0 + 900);

    advance(60 + TOLERANCE);
    expect(list.prune()).toBe(0);
    expect(list.check(short)).toBe("revoked-jti");

    advance(1);
    expect(list.prune()).toBe(1);
    expect(list.check(short)).toBe("active");
    expect(list.check(long)).toBe("revoked-jti");

    advance(900);
    expect(list.prune()).toBe(3);
    expect(list.size).toEqual({ tokens: 0, subjects: 0, keys: 0 });
  });

  it("prunes in bounded batches, resuming where the last batch stopped", () => {
    const { list, advance } = frozen();
    for (let i = 0; i < 1000; i++) list.revokeToken(`jti-${i}`, T0 + (i % 2 === 0 ? 10 : 10_000));
    advance(10 + TOLERANCE + 1);
    let dropped = 0;
    for (let batch = 0; batch < 10; batch++) {
      const now = list.prune(100);
      expect(now).toBeLessThanOrEqual(100);
      dropped += now;
    }
    expect(dropped).toBe(500);
    expect(list.size.tokens).toBe(500);
    expect(list.check(tokenQuery({ jti: "jti-1" }))).toBe("revoked-jti");
  });

  it.each([
    ["toleranceSec", { toleranceSec: -1 }],
    ["toleranceSec", { toleranceSec: 1.5 }],
    ["now", { now: 5 as unknown as () => number }],
  ])("refuses a bad %s with ERR_REVOCATION_OPTIONS", (field, options) => {
    const error = (() => {
      try {
        return new Denylist(options);
      } catch (thrown) {
        return thrown;
      }
    })();
    expect(error).toBeInstanceOf(RevocationError);
    expect(error).toMatchObject({ code: "ERR_REVOCATION_OPTIONS", field });
  });
});
