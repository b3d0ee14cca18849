/**
 * The one behaviour both stores must have. memory-store.test.ts and redis-store.test.ts run it;
 * a difference between them is a bug in one of them.
 */
import { describe, expect, it } from "vitest";
import type { StoreErrorCode } from "./errors.js";
import { describeRefreshContract } from "./store-contract-refresh.js";
import {
  codeOf,
  nth,
  publicJwk,
  serviceInput,
  START_SEC,
  useStoreUnderTest,
  type StoreFactory,
} from "./store-contract-context.js";
import type { NewServiceIdentity, StoredSigningKey } from "./types.js";

export type { StoreFactory, StoreUnderTest } from "./store-contract-context.js";

export function describeStoreContract(name: string, factory: StoreFactory): void {
  describe(`IssuerStore contract: ${name}`, () => {
    const ctx = useStoreUnderTest(factory);

    describe("service identities", () => {
      it("registers and reads back an identity at revision 1, active by default", async () => {
        const registered = await ctx.store().registerService(serviceInput("orders"));
        const expected = {
          ...serviceInput("orders"),
          status: "active",
          createdAtMs: START_SEC * 1000,
          updatedAtMs: START_SEC * 1000,
          revision: 1,
        };
        expect(registered).toEqual(expected);
        expect(await ctx.store().getService("orders")).toEqual(expected);
        expect(await ctx.store().getService("nobody")).toBeUndefined();
      });

      it("refuses a second registration of one id, even from another replica", async () => {
        const [a, b] = await ctx.pair();
        const results = await Promise.allSettled([a, b, a, b].map((s) => s.registerService(serviceInput("orders"))));
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
        for (const result of results.filter((r) => r.status === "rejected")) {
          expect(result.reason).toMatchObject({ code: "ERR_SERVICE_EXISTS" });
        }
      });

      it("lists every identity sorted by id", async () => {
        for (const id of ["payments", "audit.log", "orders-2", "orders"]) await ctx.store().registerService(serviceInput(id));
        expect((await ctx.store().listServices()).map((s) => s.id)).toEqual(["audit.log", "orders", "orders-2", "payments"]);
      });

      it("updates with the current revision and refuses a stale one", async () => {
        await ctx.store().registerService(serviceInput("orders"));
        ctx.advance(5);
        const keys = [publicJwk("orders-1"), publicJwk("orders-2")];
        const updated = await ctx.store().updateService("orders", 1, { keys, audiences: { ledger: ["ledger:read"] } });
        expect(updated).toMatchObject({ revision: 2, keys, audiences: { ledger: ["ledger:read"] }, status: "active" });
        expect(updated.updatedAtMs).toBe(ctx.nowMs());
        expect(updated.createdAtMs).toBe(START_SEC * 1000);
        expect(await ctx.store().getService("orders")).toEqual(updated);
        expect(await codeOf(ctx.store().updateService("orders", 1, { status: "disabled" }))).toBe("ERR_STALE_REVISION");
        expect(await codeOf(ctx.store().updateService("nobody", 1, {}))).toBe("ERR_SERVICE_NOT_FOUND");
        expect((await ctx.store().getService("orders"))?.revision).toBe(2);
      });

      it("lets exactly one of several concurrent updates at one revision win", async () => {
        await ctx.store().registerService(serviceInput("orders"));
        const handles = await ctx.pair();
        const results = await Promise.allSettled(
          Array.from({ length: 6 }, (_, i) => nth(handles, i).updateService("orders", 1, { audiences: { [`aud-${i}`]: [] } })),
        );
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
        for (const result of results.filter((r) => r.status === "rejected")) {
          expect(result.reason).toMatchObject({ code: "ERR_STALE_REVISION" });
        }
        expect((await ctx.store().getService("orders"))?.revision).toBe(2);
      });

      it("disables whatever the revision, idempotently, and can re-enable", async () => {
        await ctx.store().registerService(serviceInput("orders"));
        await ctx.store().updateService("orders", 1, { audiences: {} });
        const disabled = await ctx.store().disableService("orders");
        expect(disabled).toMatchObject({ status: "disabled", revision: 3 });
        expect(await ctx.store().disableService("orders")).toEqual(disabled);
        expect(await ctx.store().updateService("orders", 3, { status: "active" })).toMatchObject({ status: "active", revision: 4 });
        expect(await codeOf(ctx.store().disableService("nobody"))).toBe("ERR_SERVICE_NOT_FOUND");
      });

      it("hands out copies: changing a returned identity changes nothing stored", async () => {
        const registered = await ctx.store().registerService(serviceInput("orders"));
        (registered.audiences["payments"] as string[]).push("payments:everything");
        const read = await ctx.store().getService("orders");
        nth((read?.keys ?? []) as { kid: string }[], 0).kid = "changed";
        expect(await ctx.store().getService("orders")).toEqual({ ...registered, audiences: serviceInput("orders").audiences });
      });

      it.each<[string, Partial<Record<keyof NewServiceIdentity, unknown>>, string]>([
        ["an upper-case id", { id: "Orders" }, "id"],
        ["an id starting with a dot", { id: ".orders" }, "id"],
        ["a 64-character id", { id: "a".repeat(64) }, "id"],
        ["a missing tenant", { tenantId: undefined }, "tenantId"],
        ["no keys", { keys: [] }, "keys"],
        ["three keys", { keys: [publicJwk("a"), publicJwk("b"), publicJwk("c")] }, "keys"],
        ["a key without kid", { keys: [{ kty: "OKP", x: "y" }] }, "keys[0].kid"],
        ["a key without kty", { keys: [{ kid: "k" }] }, "keys[0].kty"],
        ["two keys with one kid", { keys: [publicJwk("k"), publicJwk("k")] }, "keys[1].kid"],
        ["a private key", { keys: [{ ...publicJwk("k"), d: "secret" }] }, "keys[0].d"],
        ["a symmetric key", { keys: [{ kty: "oct", kid: "k", k: "secret" }] }, "keys[0].k"],
        ["an oversized key", { keys: [{ ...publicJwk("k"), x: "x".repeat(9000) }] }, "keys[0]"],
        ["audiences as a list", { audiences: ["payments"] }, "audiences"],
        ["an audience with a space", { audiences: { "pay ments": [] } }, "audiences"],
        ["scopes that are not a list", { audiences: { payments: "payments:charge" } }, 'audiences["payments"]'],
        ["a scope with a space", { audiences: { payments: ["a b"] } }, 'audiences["payments"][0]'],
        ["a scope listed twice", { audiences: { payments: ["a", "a"] } }, 'audiences["payments"][1]'],
        ["an unknown status", { status: "paused" }, "status"],
      ])("refuses to register %s", async (_, overrides, field) => {
        const refused = ctx.store().registerService(serviceInput("orders", overrides));
        await expect(refused).rejects.toMatchObject({ code: "ERR_INVALID_INPUT", field });
        expect(await ctx.store().listServices()).toEqual([]);
      });

      it.each<[string, unknown, unknown, string]>([
        ["a tenant change", 1, { tenantId: "other" }, "changes.tenantId"],
        ["an id change", 1, { id: "other" }, "changes.id"],
        ["a negative revision", -1, {}, "expectedRevision"],
        ["a fractional revision", 1.5, {}, "expectedRevision"],
        ["a private key", 1, { keys: [{ ...publicJwk("k"), d: "secret" }] }, "keys[0].d"],
      ])("refuses an update with %s", async (_, revision, changes, field) => {
        await ctx.store().registerService(serviceInput("orders"));
        const refused = ctx.store().updateService("orders", revision as number, changes as object);
        await expect(refused).rejects.toMatchObject({ code: "ERR_INVALID_INPUT", field });
        expect((await ctx.store().getService("orders"))?.revision).toBe(1);
      });
    });

    describe("client-assertion jti", () => {
      it("is accepted once per client, then refused", async () => {
        const exp = ctx.nowSec() + 60;
        expect(await ctx.store().consumeAssertionJti("orders", "jti-1", exp)).toBe(true);
        expect(await ctx.store().consumeAssertionJti("orders", "jti-1", exp)).toBe(false);
        ctx.advance(60 + 299);
        expect(await ctx.store().consumeAssertionJti("orders", "jti-1", exp)).toBe(false);
        expect(await ctx.store().consumeAssertionJti("payments", "jti-1", exp)).toBe(true);
      });

      it("is accepted exactly once when 20 replicas race to consume it", async () => {
        const handles = await ctx.pair();
        const exp = ctx.nowSec() + 60;
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => nth(handles, i).consumeAssertionJti("orders", "raced", exp)),
        );
        expect(results.filter((won) => won)).toHaveLength(1);
      });

      it.each<[string, unknown, unknown, unknown, string]>([
        ["a bad client id", "Orders", "j", START_SEC + 60, "clientId"],
        ["an empty jti", "orders", "", START_SEC + 60, "jti"],
        ["a jti with a space", "orders", "a b", START_SEC + 60, "jti"],
        ["a 257-character jti", "orders", "j".repeat(257), START_SEC + 60, "jti"],
        ["a fractional expiry", "orders", "j", START_SEC + 0.5, "expiresAtSec"],
        ["an expiry in milliseconds as a string", "orders", "j", String(START_SEC), "expiresAtSec"],
      ])("refuses %s", async (_, clientId, jti, exp, field) => {
        const refused = ctx.store().consumeAssertionJti(clientId as string, jti as string, exp as number);
        await expect(refused).rejects.toMatchObject({ code: "ERR_INVALID_INPUT", field });
      });
    });

    describe("signing keyring", () => {
      const key = (kid: string, state: StoredSigningKey["state"]): StoredSigningKey => ({
        kid,
        alg: "EdDSA",
        state,
        createdAtMs: START_SEC * 1000,
        activatesAtMs: START_SEC * 1000 + 3_600_000,
        encryptedPrivateKey: `v1.iv.${kid}.ciphertext.tag`,
        publicJwk: { kty: "OKP", crv: "Ed25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", kid },
      });

      it("starts empty at version 0 and keeps what each winning CAS wrote, verbatim", async () => {
        expect(await ctx.store().getKeyring()).toEqual({ version: 0, keys: [] });
        const first = [key("a", "active"), key("b", "next")];
        expect(await ctx.store().compareAndSetKeyring(0, first)).toBe(true);
        expect(await ctx.store().getKeyring()).toEqual({ version: 1, keys: first });
        expect(await ctx.store().compareAndSetKeyring(0, [])).toBe(false);
        const second = [{ ...key("a", "retired"), retiredAtMs: 1, publishUntilMs: 2 }, key("b", "active")];
        expect(await ctx.store().compareAndSetKeyring(1, second)).toBe(true);
        expect(await ctx.store().getKeyring()).toEqual({ version: 2, keys: second });
      });

      it("lets exactly one of two replicas rotating at once win", async () => {
        const [a, b] = await ctx.pair();
        const fromA = [key("from-a", "next")];
        const fromB = [key("from-b", "next")];
        const won = await Promise.all([a.compareAndSetKeyring(0, fromA), b.compareAndSetKeyring(0, fromB)]);
        expect(won.filter((w) => w)).toHaveLength(1);
        const winner = won[0] ? fromA : fromB;
        expect(await ctx.store().getKeyring()).toEqual({ version: 1, keys: winner });
      });

      it.each<[string, unknown, unknown, string]>([
        ["keys that are not a list", 0, { kid: "a" }, "keys"],
        ["a repeated kid", 0, [key("a", "active"), key("a", "next")], "keys[1].kid"],
        ["an unknown state", 0, [{ ...key("a", "active"), state: "pending" }], "keys[0].state"],
        ["a key without its sealed private half", 0, [{ ...key("a", "active"), encryptedPrivateKey: undefined }], "keys[0].encryptedPrivateKey"],
        ["a negative version", -1, [], "expectedVersion"],
      ])("refuses %s", async (_, version, keys, field) => {
        const refused = ctx.store().compareAndSetKeyring(version as number, keys as StoredSigningKey[]);
        await expect(refused).rejects.toMatchObject({ code: "ERR_INVALID_INPUT", field });
        expect((await ctx.store().getKeyring()).version).toBe(0);
      });
    });

    describe("lifecycle", () => {
      it("is ready, and after close refuses everything with ERR_STORE_CLOSED", async () => {
        const store = ctx.store();
        await store.ready();
        await store.close();
        await store.close();
        const refused: Promise<unknown>[] = [
          store.ready(),
          store.getService("orders"),
          store.consumeAssertionJti("orders", "j", START_SEC + 60),
          store.getKeyring(),
        ];
        for (const operation of refused) expect(await codeOf(operation)).toBe<StoreErrorCode>("ERR_STORE_CLOSED");
      });
    });

    describeRefreshContract(ctx);
  });
}
