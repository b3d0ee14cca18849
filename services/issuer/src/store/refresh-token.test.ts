import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { hashRefreshToken, newRefreshToken, parseRefreshToken } from "./refresh-token.js";

const SAMPLE = newRefreshToken();
const FAMILY = SAMPLE.familyId;
const SECRET = SAMPLE.token.slice(`tmr_${FAMILY}_`.length);

describe("refresh tokens", () => {
  it("are tmr_<16-byte family>_<32-byte secret>, hashed with SHA-256 over the whole token", () => {
    expect(SAMPLE.token).toMatch(/^tmr_[A-Za-z0-9_-]{22}_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(SECRET, "base64url")).toHaveLength(32);
    expect(SAMPLE.hash).toBe(createHash("sha256").update(SAMPLE.token).digest("base64url"));
    expect(hashRefreshToken(SAMPLE.token)).toBe(SAMPLE.hash);
    expect(parseRefreshToken(SAMPLE.token)).toEqual({ familyId: FAMILY, hash: SAMPLE.hash });
  });

  it("continue a family when asked, and never repeat a secret", () => {
    const successors = Array.from({ length: 100 }, () => newRefreshToken(FAMILY));
    expect(new Set(successors.map((t) => t.familyId))).toEqual(new Set([FAMILY]));
    expect(new Set(successors.map((t) => t.token)).size).toBe(100);
    expect(new Set(Array.from({ length: 100 }, () => newRefreshToken().familyId)).size).toBe(100);
  });

  it("refuse to continue a family id that newRefreshToken could not have made", () => {
    expect(() => newRefreshToken("not-a-family")).toThrow(expect.objectContaining({ code: "ERR_INVALID_INPUT", field: "familyId" }));
  });

  // The last character of 16 (32) bytes in base64url carries 4 (2) unused bits, zero when
  // canonical: setting the lowest spells the same bytes another way.
  const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const otherSpelling = (text: string): string => text.slice(0, -1) + ALPHABET.charAt(ALPHABET.indexOf(text.slice(-1)) + 1);

  it("spell the same bytes two ways only non-canonically", () => {
    expect(Buffer.from(otherSpelling(FAMILY), "base64url")).toEqual(Buffer.from(FAMILY, "base64url"));
    expect(Buffer.from(otherSpelling(SECRET), "base64url")).toEqual(Buffer.from(SECRET, "base64url"));
  });

  it.each<[string, unknown]>([
    ["a number", 42],
    ["the empty string", ""],
    ["another prefix", `tmx_${FAMILY}_${SECRET}`],
    ["an upper-case prefix", `TMR_${FAMILY}_${SECRET}`],
    ["a short secret", `tmr_${FAMILY}_${SECRET.slice(1)}`],
    ["a long secret", `tmr_${FAMILY}_${SECRET}A`],
    ["a short family", `tmr_${FAMILY.slice(1)}_${SECRET}`],
    ["a standard-base64 character", `tmr_${FAMILY}_+${SECRET.slice(1)}`],
    ["padding", `tmr_${FAMILY}_${SECRET.slice(0, -1)}=`],
    ["surrounding whitespace", ` tmr_${FAMILY}_${SECRET}`],
    ["a trailing newline", `tmr_${FAMILY}_${SECRET}\n`],
    ["a non-canonical family", `tmr_${otherSpelling(FAMILY)}_${SECRET}`],
    ["a non-canonical secret", `tmr_${FAMILY}_${otherSpelling(SECRET)}`],
  ])("parse refuses %s", (_, token) => {
    expect(parseRefreshToken(token)).toBeUndefined();
  });
});
