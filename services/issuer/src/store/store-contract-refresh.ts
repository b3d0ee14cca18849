/**
 * The refresh-token half of the contract: rotation on every use, reuse revoking the family, and
 * the per-family record of minted access tokens that a revocation must name.
 */
import { describe, expect, it } from "vitest";
import { MAX_REFRESH_TOKEN_LIFETIME_SEC, RETENTION_SLACK_SEC } from "./limits.js";
import { newRefreshToken, type NewRefreshToken } from "./refresh-token.js";
import { codeOf, nth, START_SEC, type ContractContext } from "./store-contract-context.js";
import type { AccessTokenRef, RefreshTokenRecord, RotateOutcome } from "./types.js";

const DAY_SEC = 24 * 60 * 60;

export function describeRefreshContract(ctx: ContractContext): void {
  describe("refresh tokens", () => {
    const recordFor = (token: NewRefreshToken, overrides: Partial<RefreshTokenRecord> = {}): RefreshTokenRecord => ({
      familyId: token.familyId,
      clientId: "orders",
      audience: "payments",
      scopes: ["payments:charge"],
      issuedAtSec: ctx.nowSec(),
      expiresAtSec: ctx.nowSec() + DAY_SEC,
      ...overrides,
    });
    const access = (jti: string, lifetimeSec = 600): AccessTokenRef => ({ jti, exp: ctx.nowSec() + lifetimeSec });

    /** A saved first token of a new family, with its access token recorded. */
    async function issued(): Promise<NewRefreshToken> {
      const first = newRefreshToken();
      await ctx.store().saveRefreshToken(first.hash, recordFor(first), access("at-1"));
      return first;
    }
    const rotate = (from: NewRefreshToken, to: NewRefreshToken, extra: { clientId?: string; accessToken?: AccessTokenRef } = {}) =>
      ctx.store().rotateRefreshToken({
        familyId: from.familyId,
        oldHash: from.hash,
        newHash: to.hash,
        clientId: extra.clientId ?? "orders",
        expiresAtSec: ctx.nowSec() + DAY_SEC,
        ...(extra.accessToken === undefined ? {} : { accessToken: extra.accessToken }),
      });

    it("rotates: the successor keeps audience and scopes, is issued now and expires when asked", async () => {
      const first = await issued();
      ctx.advance(30);
      const second = newRefreshToken(first.familyId);
      const result = await rotate(first, second, { accessToken: access("at-2") });
      expect(result).toEqual({
        outcome: "rotated",
        previous: recordFor(first, { issuedAtSec: START_SEC, expiresAtSec: START_SEC + DAY_SEC }),
        current: recordFor(second, { issuedAtSec: START_SEC + 30, expiresAtSec: START_SEC + 30 + DAY_SEC }),
      });
      expect(await ctx.store().isFamilyRevoked(first.familyId)).toBe(false);
    });

    it("treats a second use of a spent token as theft: the family is revoked with its access tokens", async () => {
      const first = await issued();
      const second = newRefreshToken(first.familyId);
      expect((await rotate(first, second, { accessToken: access("at-2", 900) })).outcome).toBe("rotated");
      await ctx.store().recordAccessToken(first.familyId, "at-3", ctx.nowSec() + 300);

      const replay = await rotate(first, newRefreshToken(first.familyId));
      expect(replay).toEqual({
        outcome: "reused",
        revokedAccessTokens: [
          { jti: "at-3", exp: START_SEC + 300 },
          { jti: "at-1", exp: START_SEC + 600 },
          { jti: "at-2", exp: START_SEC + 900 },
        ],
      });
      expect(await ctx.store().isFamilyRevoked(first.familyId)).toBe(true);
      expect(await rotate(second, newRefreshToken(first.familyId))).toEqual({ outcome: "family-revoked" });
      const late = newRefreshToken(first.familyId);
      expect(await codeOf(ctx.store().saveRefreshToken(late.hash, recordFor(late)))).toBe("ERR_FAMILY_REVOKED");
      expect(await codeOf(ctx.store().recordAccessToken(first.familyId, "at-4", ctx.nowSec() + 60))).toBe("ERR_FAMILY_REVOKED");
    });

    it.each([
      ["after its own expiry", { advanceSec: DAY_SEC + 1, clientId: "orders" }],
      ["by another client", { advanceSec: 0, clientId: "inventory" }],
    ])("treats a spent token presented %s as theft too", async (_name, { advanceSec, clientId }) => {
      const first = await issued();
      expect((await rotate(first, newRefreshToken(first.familyId))).outcome).toBe("rotated");
      ctx.advance(advanceSec);
      expect((await rotate(first, newRefreshToken(first.familyId), { clientId })).outcome).toBe("reused");
      expect(await ctx.store().isFamilyRevoked(first.familyId)).toBe(true);
    });

    it.each([2, 10])("lets exactly one of %i concurrent rotations of one token succeed", async (count) => {
      const first = await issued();
      const handles = await ctx.pair();
      const successors = Array.from({ length: count }, () => newRefreshToken(first.familyId));
      const results = await Promise.all(
        successors.map((to, i) =>
          nth(handles, i).rotateRefreshToken({
            familyId: first.familyId,
            oldHash: first.hash,
            newHash: to.hash,
            clientId: "orders",
            expiresAtSec: ctx.nowSec() + DAY_SEC,
          }),
        ),
      );
      const outcomes = results.map((r) => r.outcome);
      expect(outcomes.filter((o) => o === "rotated")).toHaveLength(1);
      // The losers used a spent token: the first of them revokes the family, the rest find it revoked.
      expect(outcomes.filter((o) => o === "reused")).toHaveLength(1);
      expect(outcomes.filter((o) => o === "family-revoked")).toHaveLength(count - 2);
      const winner = nth(successors, outcomes.indexOf("rotated"));
      expect((await rotate(winner, newRefreshToken(first.familyId))).outcome).toBe<RotateOutcome>("family-revoked");
    });

    it("answers unknown for a token never stored, in a known family or a new one", async () => {
      const first = await issued();
      expect(await rotate(newRefreshToken(first.familyId), newRefreshToken(first.familyId))).toEqual({ outcome: "unknown" });
      expect(await rotate(newRefreshToken(), newRefreshToken())).toEqual({ outcome: "unknown" });
      expect((await rotate(first, newRefreshToken(first.familyId))).outcome).toBe("rotated");
    });

    it("answers expired from the token's expiry on, without spending or revoking anything", async () => {
      const [early, late] = [newRefreshToken(), newRefreshToken()];
      const soon = { expiresAtSec: ctx.nowSec() + 60 };
      await ctx.store().saveRefreshToken(early.hash, recordFor(early, soon));
      await ctx.store().saveRefreshToken(late.hash, recordFor(late, soon));
      ctx.advance(59);
      expect((await rotate(early, newRefreshToken(early.familyId))).outcome).toBe("rotated");
      ctx.advance(1);
      expect(await rotate(late, newRefreshToken(late.familyId))).toEqual({ outcome: "expired" });
      expect(await rotate(late, newRefreshToken(late.familyId))).toEqual({ outcome: "expired" });
      expect(await ctx.store().isFamilyRevoked(late.familyId)).toBe(false);
    });

    it("refuses a token presented by another client, and leaves it usable by its own", async () => {
      const first = await issued();
      expect(await rotate(first, newRefreshToken(first.familyId), { clientId: "payments" })).toEqual({ outcome: "client-mismatch" });
      expect((await rotate(first, newRefreshToken(first.familyId))).outcome).toBe("rotated");
    });

    it("refuses a hash it already holds, live or spent, without spending the old token", async () => {
      const first = await issued();
      expect(await codeOf(ctx.store().saveRefreshToken(first.hash, recordFor(first)))).toBe("ERR_REFRESH_TOKEN_EXISTS");
      const other = newRefreshToken(first.familyId);
      await ctx.store().saveRefreshToken(other.hash, recordFor(other));
      expect(await codeOf(rotate(first, other))).toBe("ERR_REFRESH_TOKEN_EXISTS");
      expect((await rotate(first, newRefreshToken(first.familyId))).outcome).toBe("rotated");
    });

    it("keeps a minted access token until its expiry plus the slack, then prunes it", async () => {
      const first = newRefreshToken();
      await ctx.store().saveRefreshToken(first.hash, recordFor(first), access("short", 60));
      await ctx.store().recordAccessToken(first.familyId, "long", ctx.nowSec() + 600);
      ctx.advance(60 + RETENTION_SLACK_SEC - 1);
      await ctx.store().recordAccessToken(first.familyId, "later", ctx.nowSec() + 600);
      ctx.advance(1);
      await ctx.store().recordAccessToken(first.familyId, "last", ctx.nowSec() + 600);
      expect((await ctx.store().revokeFamily(first.familyId)).map((t) => t.jti)).toEqual(["long", "later", "last"]);
    });

    it("revokes a family idempotently, returning its access tokens each time", async () => {
      const first = await issued();
      expect(await ctx.store().isFamilyRevoked(first.familyId)).toBe(false);
      const expected = [{ jti: "at-1", exp: START_SEC + 600 }];
      expect(await ctx.store().revokeFamily(first.familyId)).toEqual(expected);
      ctx.advance(10);
      expect(await ctx.store().revokeFamily(first.familyId)).toEqual(expected);
      expect(await rotate(first, newRefreshToken(first.familyId))).toEqual({ outcome: "family-revoked" });
    });

    it("remembers the revocation of a family it has never seen", async () => {
      const { familyId } = newRefreshToken();
      expect(await ctx.store().revokeFamily(familyId)).toEqual([]);
      expect(await ctx.store().isFamilyRevoked(familyId)).toBe(true);
      const late = newRefreshToken(familyId);
      expect(await codeOf(ctx.store().saveRefreshToken(late.hash, recordFor(late)))).toBe("ERR_FAMILY_REVOKED");
    });

    const token = newRefreshToken();
    const valid = (): RefreshTokenRecord => ({
      familyId: token.familyId,
      clientId: "orders",
      audience: "payments",
      scopes: [],
      issuedAtSec: START_SEC,
      expiresAtSec: START_SEC + DAY_SEC,
    });
    it.each<[string, () => [unknown, unknown, unknown], string]>([
      ["a hash that is not one", () => [token.token, valid(), undefined], "hash"],
      ["a bad family id", () => [token.hash, { ...valid(), familyId: "short" }, undefined], "familyId"],
      ["a bad client id", () => [token.hash, { ...valid(), clientId: "Orders" }, undefined], "record.clientId"],
      ["an audience with a space", () => [token.hash, { ...valid(), audience: "a b" }, undefined], "record.audience"],
      ["a scope with a space", () => [token.hash, { ...valid(), scopes: ["a b"] }, undefined], "record.scopes[0]"],
      ["an expiry now", () => [token.hash, { ...valid(), expiresAtSec: START_SEC }, undefined], "record.expiresAtSec"],
      [
        "a lifetime over the maximum",
        () => [token.hash, { ...valid(), expiresAtSec: START_SEC + MAX_REFRESH_TOKEN_LIFETIME_SEC + 1 }, undefined],
        "record.expiresAtSec",
      ],
      ["an expiry before issuance", () => [token.hash, { ...valid(), issuedAtSec: START_SEC + DAY_SEC + 1 }, undefined], "record.expiresAtSec"],
      ["an access token without exp", () => [token.hash, valid(), { jti: "a" }], "accessToken.exp"],
      ["an access token with a bad jti", () => [token.hash, valid(), { jti: "", exp: START_SEC }], "accessToken.jti"],
    ])("refuses to save %s", async (_, args, field) => {
      const [hash, record, accessToken] = args();
      const refused = ctx.store().saveRefreshToken(hash as string, record as RefreshTokenRecord, accessToken as AccessTokenRef);
      await expect(refused).rejects.toMatchObject({ code: "ERR_INVALID_INPUT", field });
      expect(await ctx.store().isFamilyRevoked(token.familyId)).toBe(false);
    });

    it.each<[string, Record<string, unknown>, string]>([
      ["the same old and new hash", { newHash: token.hash }, "newHash"],
      ["a bad family id", { familyId: "short" }, "familyId"],
      ["an expiry in the past", { expiresAtSec: START_SEC - 1 }, "expiresAtSec"],
      ["a bad client id", { clientId: "" }, "clientId"],
      ["a bad access token", { accessToken: { jti: "a", exp: -1 } }, "accessToken.exp"],
    ])("refuses to rotate with %s", async (_, overrides, field) => {
      const input = {
        familyId: token.familyId,
        oldHash: token.hash,
        newHash: newRefreshToken(token.familyId).hash,
        clientId: "orders",
        expiresAtSec: START_SEC + 60,
      };
      const refused = ctx.store().rotateRefreshToken({ ...input, ...overrides });
      await expect(refused).rejects.toMatchObject({ code: "ERR_INVALID_INPUT", field });
    });
  });
}
