import { Metadata, ResponderBuilder, ServerInterceptingCall, ServerListenerBuilder, status, type ServerInterceptor } from "@grpc/grpc-js";
import { TEST_NOW_SEC } from "@trustmesh/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuthInterceptor } from "./create-auth-interceptor.js";
import { CallerMissingError, InterceptorOptionsError, PolicyError } from "./errors.js";
import { authorization, CALL_KINDS, ECHO_PATHS, startEchoServer, type CallKind, type EchoServer } from "./fixtures/echo-server.js";
import { rawGrpcUnary } from "./fixtures/raw-http2.js";
import { gatedVerifier, mintTestTokens, testNow, testVerifier, type TestTokens } from "./fixtures/tokens.js";
import { getCaller, requireCaller } from "./get-caller.js";
import { allowServices, allowTenants, policy, requireScopes, type PolicyMap } from "./policy.js";
import { HEALTH_AND_REFLECTION_POLICIES } from "./public-methods.js";

const ECHO_POLICY = policy(requireScopes("payments:charge"), allowServices("orders", "inventory"), allowTenants("acme"));
const ECHO_POLICIES: PolicyMap = Object.fromEntries(Object.values(ECHO_PATHS).map((path) => [path, ECHO_POLICY]));

let tokens: TestTokens;
let server: EchoServer;

beforeAll(async () => {
  tokens = await mintTestTokens();
  server = await startEchoServer(createAuthInterceptor({ verifier: testVerifier(tokens.key), policies: ECHO_POLICIES, now: testNow }));
});

afterAll(async () => {
  await server.close();
});

/** Handler invocations for `path` since `before`, so a test can say "never reached". */
function invocationsSince(before: number, path: string): number {
  return server.records.slice(before).filter((entry) => entry.path === path).length;
}

describe.each(CALL_KINDS)("%s call", (kind: CallKind) => {
  it("passes a valid token and hands the handler the verified caller", async () => {
    const before = server.records.length;
    const result = await server.client.call(kind, authorization(`Bearer ${tokens.valid}`), ["one", "two"]);

    expect(result.ok).toBe(true);
    const entry = server.records.slice(before).find((candidate) => candidate.path === ECHO_PATHS[kind]);
    expect(entry?.caller).toEqual({
      serviceId: "orders",
      tenantId: "acme",
      scopes: ["payments:charge", "payments:refund"],
      jti: tokens.validJti,
      exp: TEST_NOW_SEC + 600,
    });
    expect(entry?.metadata).not.toHaveProperty("authorization");
  });

  it("accepts the scheme in any case", async () => {
    expect((await server.client.call(kind, authorization(`bEaReR ${tokens.valid}`))).ok).toBe(true);
  });

  it("ignores metadata that claims to be the caller", async () => {
    const before = server.records.length;
    const metadata = authorization(`Bearer ${tokens.valid}`);
    metadata.set("x-trustmesh-caller", "admin");
    metadata.set("x-trustmesh-service-id", "admin");

    expect((await server.client.call(kind, metadata)).ok).toBe(true);
    expect(server.records.at(before)?.caller?.serviceId).toBe("orders");
  });

  // The token text each case sends, given the tokens minted for the run.
  const refusals: { name: string; values: (t: TestTokens) => string[]; code: status; details: string }[] = [
    { name: "no authorization", values: () => [], code: status.UNAUTHENTICATED, details: "ERR_TOKEN_MISSING" },
    { name: "a scheme and no token", values: () => ["Bearer"], code: status.UNAUTHENTICATED, details: "ERR_AUTHORIZATION_MALFORMED" },
    { name: "two spaces after the scheme", values: (t) => [`Bearer  ${t.valid}`], code: status.UNAUTHENTICATED, details: "ERR_AUTHORIZATION_MALFORMED" },
    { name: "a token and more", values: (t) => [`Bearer ${t.valid} ${t.valid}`], code: status.UNAUTHENTICATED, details: "ERR_AUTHORIZATION_MALFORMED" },
    { name: "a token with no scheme", values: (t) => [t.valid], code: status.UNAUTHENTICATED, details: "ERR_AUTHORIZATION_MALFORMED" },
    { name: "the Basic scheme", values: () => ["Basic b3JkZXJzOnNlY3JldA=="], code: status.UNAUTHENTICATED, details: "ERR_AUTHORIZATION_SCHEME" },
    { name: "the DPoP scheme", values: (t) => [`DPoP ${t.valid}`], code: status.UNAUTHENTICATED, details: "ERR_AUTHORIZATION_SCHEME" },
    { name: "a bearer value that is not a JWT", values: () => ["Bearer not-a-jwt"], code: status.UNAUTHENTICATED, details: "ERR_TOKEN_MALFORMED" },
    { name: "an expired token", values: (t) => [`Bearer ${t.expired}`], code: status.UNAUTHENTICATED, details: "ERR_TOKEN_EXPIRED" },
    { name: "a token for another audience", values: (t) => [`Bearer ${t.wrongAudience}`], code: status.UNAUTHENTICATED, details: "ERR_AUDIENCE_MISMATCH" },
    { name: "a forged token", values: (t) => [`Bearer ${t.forged}`], code: status.UNAUTHENTICATED, details: "ERR_SIGNATURE_INVALID" },
    { name: "a token from an untrusted key", values: (t) => [`Bearer ${t.unknownKey}`], code: status.UNAUTHENTICATED, details: "ERR_KEY_NOT_FOUND" },
    { name: "a revoked token", values: (t) => [`Bearer ${t.revoked}`], code: status.UNAUTHENTICATED, details: "ERR_TOKEN_REVOKED" },
    { name: "revocation state too stale to trust", values: (t) => [`Bearer ${t.staleRevocation}`], code: status.UNAVAILABLE, details: "ERR_REVOCATION_UNAVAILABLE" },
    { name: "a token lacking the scope", values: (t) => [`Bearer ${t.missingScope}`], code: status.PERMISSION_DENIED, details: "ERR_SCOPE_MISSING" },
    { name: "a service not allowed", values: (t) => [`Bearer ${t.otherService}`], code: status.PERMISSION_DENIED, details: "ERR_SERVICE_NOT_ALLOWED" },
    { name: "a tenant not allowed", values: (t) => [`Bearer ${t.otherTenant}`], code: status.PERMISSION_DENIED, details: "ERR_TENANT_NOT_ALLOWED" },
    { name: "no tenant where tenants are listed", values: (t) => [`Bearer ${t.noTenant}`], code: status.PERMISSION_DENIED, details: "ERR_TENANT_NOT_ALLOWED" },
  ];

  it.each(refusals)("refuses $name with $details before the handler runs", async ({ values, code, details }) => {
    const before = server.records.length;
    const result = await server.client.call(kind, authorization(...values(tokens)), ["one", "two"]);

    expect(result).toEqual({ ok: false, code, details });
    expect(invocationsSince(before, ECHO_PATHS[kind])).toBe(0);
  });
});

describe("two authorization values", () => {
  // grpc-js and Node's http2 client refuse to send two, and Node's http2 server keeps only the
  // first of two header fields: a second value can only be added in-process, as here.
  const addSecondValue: ServerInterceptor = (_method, call) =>
    new ServerInterceptingCall(
      call,
      new ResponderBuilder()
        .withStart((next) => {
          next(
            new ServerListenerBuilder()
              .withOnReceiveMetadata((metadata, forward) => {
                metadata.add("authorization", `Bearer ${tokens.valid}`);
                forward(metadata);
              })
              .build(),
          );
        })
        .build(),
    );
  let duplicating: EchoServer;

  beforeAll(async () => {
    duplicating = await startEchoServer(addSecondValue, createAuthInterceptor({ verifier: testVerifier(tokens.key), policies: ECHO_POLICIES, now: testNow }));
  });

  afterAll(async () => {
    await duplicating.close();
  });

  it.each(CALL_KINDS)("refuse a %s call with ERR_AUTHORIZATION_DUPLICATE, though both are valid", async (kind) => {
    const result = await duplicating.client.call(kind, authorization(`Bearer ${tokens.valid}`));

    expect(result).toEqual({ ok: false, code: status.UNAUTHENTICATED, details: "ERR_AUTHORIZATION_DUPLICATE" });
    expect(duplicating.records).toEqual([]);
  });

  it("on the wire reach the interceptor as the first alone (Node's http2 drops the rest)", async () => {
    const request = (values: string[]): (readonly [string, string])[] => [
      [":method", "POST"],
      [":scheme", "http"],
      [":path", ECHO_PATHS.unary],
      [":authority", server.address],
      ["content-type", "application/grpc"],
      ["te", "trailers"],
      ...values.map((value) => ["authorization", value] as const),
    ];
    const message = Buffer.from([0x0a, 0x01, 0x78]); // EchoRequest { text: "x" }
    const before = server.records.length;

    const garbageFirst = await rawGrpcUnary(server.address, request(["Bearer garbage", `Bearer ${tokens.valid}`]), message);
    expect(garbageFirst.gotMessage).toBe(false);
    expect(invocationsSince(before, ECHO_PATHS.unary)).toBe(0);

    const validFirst = await rawGrpcUnary(server.address, request([`Bearer ${tokens.valid}`, "Bearer garbage"]), message);
    expect(validFirst.gotMessage).toBe(true);
    expect(invocationsSince(before, ECHO_PATHS.unary)).toBe(1);
  });
});

describe("a refused call's messages", () => {
  it.each(CALL_KINDS)("never reach a %s handler, even when sent before verification ends", async (kind) => {
    const gated = gatedVerifier(testVerifier(tokens.key));
    const held = await startEchoServer(createAuthInterceptor({ verifier: gated.verifier, policies: ECHO_POLICIES, now: testNow }));
    try {
      const result = held.client.call(kind, authorization(`Bearer ${tokens.missingScope}`), ["one", "two", "three"]);
      await gated.asked;
      gated.release();

      expect(await result).toEqual({ ok: false, code: status.PERMISSION_DENIED, details: "ERR_SCOPE_MISSING" });
      expect(held.records).toEqual([]);
    } finally {
      await held.close();
    }
  });

  it("are held, not dropped, while a client stream is verified, and delivered in order on success", async () => {
    const gated = gatedVerifier(testVerifier(tokens.key));
    const held = await startEchoServer(createAuthInterceptor({ verifier: gated.verifier, policies: ECHO_POLICIES, now: testNow }));
    try {
      const stream = held.client.openClientStream(authorization(`Bearer ${tokens.valid}`));
      await gated.asked;
      for (const text of ["one", "two", "three"]) await stream.write(text);
      stream.end();
      expect(held.records).toEqual([]);
      gated.release();

      expect(await stream.result).toEqual({ ok: true, texts: ["one", "two", "three"] });
    } finally {
      await held.close();
    }
  });

  it("never start a client-stream handler when refused after every write went out", async () => {
    const gated = gatedVerifier(testVerifier(tokens.key));
    const held = await startEchoServer(createAuthInterceptor({ verifier: gated.verifier, policies: ECHO_POLICIES, now: testNow }));
    try {
      const stream = held.client.openClientStream(authorization(`Bearer ${tokens.expired}`));
      await gated.asked;
      for (const text of ["one", "two", "three"]) await stream.write(text);
      stream.end();
      gated.release();

      expect(await stream.result).toEqual({ ok: false, code: status.UNAUTHENTICATED, details: "ERR_TOKEN_EXPIRED" });
      expect(held.records).toEqual([]);
    } finally {
      await held.close();
    }
  });
});

describe("methods without a token or a policy", () => {
  let publicOnly: EchoServer;

  beforeAll(async () => {
    publicOnly = await startEchoServer(createAuthInterceptor({ verifier: testVerifier(tokens.key), policies: HEALTH_AND_REFLECTION_POLICIES, now: testNow }));
  });

  afterAll(async () => {
    await publicOnly.close();
  });

  it("serves a public method with no token, and its handler has no caller", async () => {
    expect((await publicOnly.client.healthCheck()).ok).toBe(true);
    expect((await publicOnly.client.healthWatch()).ok).toBe(true);
    expect(publicOnly.records.map((entry) => entry.caller)).toEqual([undefined, undefined]);
  });

  it("does not look at a token sent to a public method, and hides it from the handler", async () => {
    const before = publicOnly.records.length;
    expect((await publicOnly.client.healthCheck(authorization("Bearer not-a-jwt"))).ok).toBe(true);
    expect(publicOnly.records.at(before)?.metadata).not.toHaveProperty("authorization");
  });

  it.each(CALL_KINDS)("denies a %s method without a policy, even to a valid token", async (kind) => {
    const result = await publicOnly.client.call(kind, authorization(`Bearer ${tokens.valid}`));

    expect(result).toEqual({ ok: false, code: status.PERMISSION_DENIED, details: "ERR_POLICY_MISSING" });
  });

  it("still authenticates before saying a method has no policy", async () => {
    const result = await publicOnly.client.call("unary", new Metadata());

    expect(result).toEqual({ ok: false, code: status.UNAUTHENTICATED, details: "ERR_TOKEN_MISSING" });
  });
});

describe("getCaller", () => {
  it("finds nothing on a call the interceptor did not admit, whatever its metadata says", () => {
    const metadata = new Metadata();
    metadata.set("x-trustmesh-caller", "admin");
    metadata.set("authorization", "Bearer anything");

    expect(getCaller({ metadata })).toBeUndefined();
    expect(() => requireCaller({ metadata })).toThrow(CallerMissingError);
  });
});

describe("createAuthInterceptor options", () => {
  const verifier = { verify: () => Promise.reject(new Error("unused")) };
  const cases: { name: string; options: unknown; error: unknown }[] = [
    { name: "no options", options: null, error: InterceptorOptionsError },
    { name: "no verifier", options: { policies: {} }, error: InterceptorOptionsError },
    { name: "a verifier without verify", options: { verifier: {}, policies: {} }, error: InterceptorOptionsError },
    { name: "a logger without error", options: { verifier, policies: {}, logger: {} }, error: InterceptorOptionsError },
    { name: "a revocation check that is not a feed", options: { verifier, policies: {}, revocation: { check: () => "active" } }, error: InterceptorOptionsError },
    { name: "metrics without a registry", options: { verifier, policies: {}, metrics: {} }, error: InterceptorOptionsError },
    { name: "a clock that is not a function", options: { verifier, policies: {}, now: 0 }, error: InterceptorOptionsError },
    { name: "no policies", options: { verifier }, error: PolicyError },
    { name: "a key that is not a method path", options: { verifier, policies: { "Echo/Unary": requireScopes("a") } }, error: PolicyError },
    { name: "a policy not built by this package", options: { verifier, policies: { "/a.B/C": { scopes: "a" } } }, error: PolicyError },
  ];

  it.each(cases)("refuses $name at construction", ({ options, error }) => {
    expect(() => createAuthInterceptor(options as Parameters<typeof createAuthInterceptor>[0])).toThrow(error);
  });
});
