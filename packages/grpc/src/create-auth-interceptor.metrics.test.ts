import { InMemoryRevocationList, createVerifier } from "@trustmesh/verifier";
import { jwksOf, mintTestToken, TEST_AUDIENCE, TEST_ISSUER, TEST_NOW_SEC } from "@trustmesh/testing";
import { Counter, Registry } from "prom-client";
import { beforeAll, describe, expect, it } from "vitest";
import { createAuthInterceptor } from "./create-auth-interceptor.js";
import { InterceptorOptionsError } from "./errors.js";
import { authorization, CALL_KINDS, ECHO_PATHS, startEchoServer, type CallKind } from "./fixtures/echo-server.js";
import { startOpenStreamServer } from "./fixtures/open-stream-server.js";
import { mintTestTokens, testNow, testVerifier, type TestTokens } from "./fixtures/tokens.js";
import { HEALTH_AND_REFLECTION_POLICIES } from "./public-methods.js";
import { allowServices, allowTenants, policy, requireScopes, type PolicyMap } from "./policy.js";

const ECHO_POLICY = policy(requireScopes("payments:charge"), allowServices("orders", "inventory"), allowTenants("acme"));
const POLICIES: PolicyMap = {
  ...HEALTH_AND_REFLECTION_POLICIES,
  ...Object.fromEntries(Object.values(ECHO_PATHS).map((path) => [path, ECHO_POLICY])),
};

let tokens: TestTokens;

beforeAll(async () => {
  tokens = await mintTestTokens();
});

/** The value of series `name` (a histogram's `_count` too) with `labels`, as a scrape reads it. */
async function valueOf(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  for (const metric of await registry.getMetricsAsJSON()) {
    for (const value of metric.values as { value: number; labels: Record<string, unknown>; metricName?: string }[]) {
      if ((value.metricName ?? metric.name) !== name) continue;
      if (Object.entries(labels).every(([label, expected]) => value.labels[label] === expected)) return value.value;
    }
  }
  return undefined;
}

describe("metrics", () => {
  it("count every decision by outcome and time each one; public methods are not counted", async () => {
    const registry = new Registry();
    const verifier = testVerifier(tokens.key);
    const server = await startEchoServer(createAuthInterceptor({ verifier, policies: POLICIES, now: testNow, metrics: { registry } }));
    const table: { kind: CallKind; token: (t: TestTokens) => string | undefined; outcome: string }[] = [
      { kind: "unary", token: (t) => t.valid, outcome: "ok" },
      { kind: "unary", token: (t) => t.valid, outcome: "ok" },
      { kind: "bidi", token: (t) => t.valid, outcome: "ok" },
      { kind: "unary", token: () => undefined, outcome: "ERR_TOKEN_MISSING" },
      { kind: "unary", token: (t) => t.expired, outcome: "ERR_TOKEN_EXPIRED" },
      { kind: "serverStream", token: (t) => t.forged, outcome: "ERR_SIGNATURE_INVALID" },
      { kind: "clientStream", token: (t) => t.revoked, outcome: "ERR_TOKEN_REVOKED" },
      { kind: "unary", token: (t) => t.staleRevocation, outcome: "ERR_REVOCATION_UNAVAILABLE" },
      { kind: "unary", token: (t) => t.missingScope, outcome: "ERR_SCOPE_MISSING" },
      { kind: "bidi", token: (t) => t.otherTenant, outcome: "ERR_TENANT_NOT_ALLOWED" },
    ];
    try {
      for (const { kind, token } of table) {
        const text = token(tokens);
        await server.client.call(kind, text === undefined ? authorization() : authorization(`Bearer ${text}`));
      }
      expect((await server.client.healthCheck()).ok).toBe(true);

      const expected = new Map<string, number>();
      for (const { outcome } of table) expected.set(outcome, (expected.get(outcome) ?? 0) + 1);
      for (const [outcome, count] of expected) {
        expect(await valueOf(registry, "trustmesh_verifications_total", { outcome }), outcome).toBe(count);
      }
      const total = (await registry.getMetricsAsJSON()).find((metric) => metric.name === "trustmesh_verifications_total")?.values;
      expect(total?.reduce((sum, value) => sum + value.value, 0)).toBe(table.length);

      expect(await valueOf(registry, "trustmesh_verify_duration_seconds_count")).toBe(table.length);
      const sum = await valueOf(registry, "trustmesh_verify_duration_seconds_sum");
      expect(sum).toBeGreaterThan(0);
      expect(sum).toBeLessThan(5);
    } finally {
      await server.close();
    }
  });

  it("report the verifier's token cache, counting only what is new at each scrape", async () => {
    const registry = new Registry();
    const verifier = testVerifier(tokens.key);
    const server = await startEchoServer(createAuthInterceptor({ verifier, policies: POLICIES, now: testNow, metrics: { registry } }));
    try {
      // A miss, two hits; the forged token is a miss that leaves nothing in the cache.
      for (const token of [tokens.valid, tokens.valid, tokens.valid, tokens.forged]) await server.client.call("unary", authorization(`Bearer ${token}`));

      expect(await valueOf(registry, "trustmesh_verifier_cache_hits_total")).toBe(2);
      expect(await valueOf(registry, "trustmesh_verifier_cache_misses_total")).toBe(2);
      expect(await valueOf(registry, "trustmesh_verifier_cache_entries")).toBe(1);

      await server.client.call("unary", authorization(`Bearer ${tokens.valid}`));
      expect(await valueOf(registry, "trustmesh_verifier_cache_hits_total")).toBe(3);
      expect(await valueOf(registry, "trustmesh_verifier_cache_misses_total")).toBe(2);
      expect(verifier.cacheStats()).toMatchObject({ hits: 3, misses: 2 });
    } finally {
      await server.close();
    }
  });

  it("leave out the cache metrics for a verifier that has no cacheStats", async () => {
    const registry = new Registry();
    const inner = testVerifier(tokens.key);
    createAuthInterceptor({ verifier: { verify: (token) => inner.verify(token) }, policies: POLICIES, metrics: { registry } });

    const names = (await registry.getMetricsAsJSON()).map((metric) => metric.name);
    expect(names.sort()).toEqual(["trustmesh_open_streams", "trustmesh_streams_ended_total", "trustmesh_verifications_total", "trustmesh_verify_duration_seconds"]);
  });

  it("show open streams going up and back down, and count the ones the interceptor ended", async () => {
    const registry = new Registry();
    const list = new InMemoryRevocationList();
    const verifier = createVerifier({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwks: jwksOf(tokens.key), now: testNow, revocation: list });
    const interceptor = createAuthInterceptor({ verifier, policies: POLICIES, now: testNow, revocation: list, metrics: { registry } });
    const server = await startOpenStreamServer(interceptor);
    try {
      const jtis = ["gauge-jti-0000000000001", "gauge-jti-0000000000002", "gauge-jti-0000000000003"];
      const minted = await Promise.all(jtis.map((jti) => mintTestToken(tokens.key, { nowSec: TEST_NOW_SEC, claims: { jti } })));
      const streams = minted.map((token) => server.open("bidi", authorization(`Bearer ${token}`)));
      await Promise.all(streams.map((stream) => stream.ping("up")));
      expect(await valueOf(registry, "trustmesh_open_streams")).toBe(3);

      list.revokeToken(jtis[0] as string);
      expect((await streams[0]?.status)?.details).toBe("ERR_TOKEN_REVOKED");
      expect(await valueOf(registry, "trustmesh_open_streams")).toBe(2);
      expect(await valueOf(registry, "trustmesh_streams_ended_total", { reason: "ERR_TOKEN_REVOKED" })).toBe(1);

      for (const stream of streams.slice(1)) stream.end();
      await Promise.all(streams.slice(1).map((stream) => stream.status));
      expect(await valueOf(registry, "trustmesh_open_streams")).toBe(0);
      expect(await valueOf(registry, "trustmesh_verifications_total", { outcome: "ok" })).toBe(3);
    } finally {
      server.close();
      interceptor.close();
    }
  });

  it.each(CALL_KINDS)("carry no caller, jti or method label (a %s call)", async (kind) => {
    const registry = new Registry();
    const server = await startEchoServer(createAuthInterceptor({ verifier: testVerifier(tokens.key), policies: POLICIES, now: testNow, metrics: { registry } }));
    try {
      await server.client.call(kind, authorization(`Bearer ${tokens.valid}`));
      const text = await registry.metrics();

      for (const leak of ["orders", "acme", tokens.validJti, "Echo", tokens.valid]) expect(text).not.toContain(leak);
    } finally {
      await server.close();
    }
  });

  it("refuse a registry that already has one of their names, and leave it as it was", () => {
    const registry = new Registry();
    new Counter({ name: "trustmesh_open_streams", help: "someone else's", registers: [registry] });

    expect(() => createAuthInterceptor({ verifier: testVerifier(tokens.key), policies: POLICIES, metrics: { registry } })).toThrow(InterceptorOptionsError);
    expect(registry.getMetricsAsArray().map((metric) => metric.name)).toEqual(["trustmesh_open_streams"]);
  });
});
