import { performance } from "node:perf_hooks";
import { Metadata, ResponderBuilder, ServerInterceptingCall, ServerListenerBuilder, status, type ServerInterceptor } from "@grpc/grpc-js";
import {
  createVerifier,
  InMemoryRevocationList,
  type RevocationFeed,
  type RevocationQuery,
  type RevocationStatus,
  type ServiceClaims,
  type Verifier,
} from "@trustmesh/verifier";
import { generateTestKey, jwksOf, mintTestToken, TEST_AUDIENCE, TEST_ISSUER, TEST_NOW_SEC, type TestSigningKey } from "@trustmesh/testing";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAuthInterceptor, type AuthInterceptor, type AuthInterceptorOptions } from "./create-auth-interceptor.js";
import { authorization, CALL_KINDS, ECHO_PATHS, startEchoServer } from "./fixtures/echo-server.js";
import { startOpenStreamServer, STREAM_KINDS, type OpenStreamServer } from "./fixtures/open-stream-server.js";
import { deferred, testNow } from "./fixtures/tokens.js";
import { allowServices, policy, requireScopes, type PolicyMap } from "./policy.js";

const ECHO_POLICY = policy(requireScopes("payments:charge"), allowServices("orders", "inventory"));
const ECHO_POLICIES: PolicyMap = Object.fromEntries(Object.values(ECHO_PATHS).map((path) => [path, ECHO_POLICY]));

let key: TestSigningKey;
let otherKey: TestSigningKey;
let jtiCounter = 0;

beforeAll(async () => {
  [key, otherKey] = await Promise.all([generateTestKey(), generateTestKey()]);
});

interface Minted {
  readonly jti: string;
  readonly metadata: Metadata;
}

/** A token minted at TEST_NOW_SEC with its own jti, and metadata that carries it. */
async function mint(options: { claims?: Record<string, unknown>; lifetimeSec?: number; signer?: TestSigningKey } = {}): Promise<Minted> {
  const jti = `stream-jti-${String(++jtiCounter).padStart(6, "0")}`;
  const token = await mintTestToken(options.signer ?? key, { nowSec: TEST_NOW_SEC, lifetimeSec: options.lifetimeSec, claims: { jti, ...options.claims } });
  return { jti, metadata: authorization(`Bearer ${token}`) };
}

/** Reads `setTo` ms when set, and runs on in real time from there, so a token expires on cue. */
function movableClock(): { now: () => number; set(epochMs: number): void } {
  let base = testNow();
  let since = performance.now();
  return {
    now: () => base + (performance.now() - since),
    set(epochMs) {
      base = epochMs;
      since = performance.now();
    },
  };
}

interface Watched {
  readonly server: OpenStreamServer;
  readonly interceptor: AuthInterceptor;
}

const running: Watched[] = [];

afterEach(() => {
  for (const { server, interceptor } of running.splice(0)) {
    server.close();
    interceptor.close();
  }
});

function verifierWith(revocation: RevocationFeed | undefined): Verifier {
  return createVerifier({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwks: jwksOf(key, otherKey), now: testNow, revocation });
}

async function watched(options: Partial<AuthInterceptorOptions>, ...after: ServerInterceptor[]): Promise<Watched> {
  const interceptor = createAuthInterceptor({ verifier: verifierWith(options.revocation), policies: ECHO_POLICIES, now: testNow, ...options });
  const server = await startOpenStreamServer(interceptor, ...after);
  const result = { server, interceptor };
  running.push(result);
  return result;
}

const UNAUTHENTICATED = (details: string): { code: status; details: string } => ({ code: status.UNAUTHENTICATED, details });
const OK = { code: status.OK, details: "OK" };

describe("a stream whose token expires", () => {
  // Far enough ahead that admission (a few ms on loopback) comes first, by a wide margin.
  const LEAD_MS = 300;

  it.each(STREAM_KINDS)("is ended, %s, with ERR_TOKEN_EXPIRED at exp and its handler told", async (kind) => {
    const clock = movableClock();
    const { server, interceptor } = await watched({ now: clock.now });
    const caller = await mint({ lifetimeSec: 1 });
    const expMs = (TEST_NOW_SEC + 1) * 1000;
    clock.set(expMs - LEAD_MS);

    const stream = server.open(kind, caller.metadata);
    const handler = await server.handler(caller.jti);
    expect(interceptor.openStreams).toBe(1);

    expect(await stream.status).toEqual(UNAUTHENTICATED("ERR_TOKEN_EXPIRED"));
    expect(clock.now()).toBeGreaterThanOrEqual(expMs);
    await handler.cancelled;
    expect(interceptor.openStreams).toBe(0);
  });

  it("is ended alone: a stream with a later expiry stays open", async () => {
    const clock = movableClock();
    const { server, interceptor } = await watched({ now: clock.now });
    const [soon, later] = await Promise.all([mint({ lifetimeSec: 1 }), mint({ lifetimeSec: 600 })]);
    clock.set((TEST_NOW_SEC + 1) * 1000 - LEAD_MS);

    const late = server.open("bidi", later.metadata);
    const early = server.open("bidi", soon.metadata);
    await Promise.all([late.ping("up"), early.ping("up")]);
    expect(interceptor.openStreams).toBe(2);

    expect(await early.status).toEqual(UNAUTHENTICATED("ERR_TOKEN_EXPIRED"));
    await late.ping("still up");
    expect(interceptor.openStreams).toBe(1);
    late.end();
    expect(await late.status).toEqual(OK);
  });

  it("is refused, not opened, when it expired within the verifier's clock tolerance", async () => {
    const clock = movableClock();
    const { server, interceptor } = await watched({ now: clock.now });
    const caller = await mint({ lifetimeSec: 1 });
    clock.set((TEST_NOW_SEC + 5) * 1000);

    expect(await server.open("bidi", caller.metadata).status).toEqual(UNAUTHENTICATED("ERR_TOKEN_EXPIRED"));
    expect(interceptor.openStreams).toBe(0);
  });

  it("is ended on the real clock when no clock is given", async () => {
    const realVerifier = createVerifier({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwks: jwksOf(key) });
    const interceptor = createAuthInterceptor({ verifier: realVerifier, policies: ECHO_POLICIES });
    const server = await startOpenStreamServer(interceptor);
    running.push({ server, interceptor });
    const token = await mintTestToken(key, { lifetimeSec: 2, claims: { jti: "real-clock-jti" } });

    const stream = server.open("bidi", authorization(`Bearer ${token}`));
    await stream.ping("up");
    expect(await stream.status).toEqual(UNAUTHENTICATED("ERR_TOKEN_EXPIRED"));
  });
});

describe("a stream whose token is revoked", () => {
  const cases: { name: string; revoke: (list: InMemoryRevocationList, jti: string) => void; bystander: () => Promise<Minted> }[] = [
    { name: "by jti", revoke: (list, jti) => list.revokeToken(jti), bystander: () => mint() },
    {
      name: "by subject",
      revoke: (list) => list.revokeSubject("orders", TEST_NOW_SEC + 1),
      bystander: () => mint({ claims: { sub: "inventory", client_id: "inventory" } }),
    },
    { name: "by signing key", revoke: (list) => list.revokeKey(key.kid), bystander: () => mint({ signer: otherKey }) },
  ];
  const table = cases.flatMap((entry) => STREAM_KINDS.map((kind) => ({ ...entry, kind })));

  it.each(table)("is ended, $kind, with ERR_TOKEN_REVOKED $name; other callers' streams stay open", async ({ kind, revoke, bystander }) => {
    const list = new InMemoryRevocationList();
    const { server, interceptor } = await watched({ revocation: list });
    const [target, other] = await Promise.all([mint(), bystander()]);
    const stream = server.open(kind, target.metadata);
    const kept = server.open("bidi", other.metadata);
    const handler = await server.handler(target.jti);
    await kept.ping("up");
    expect(interceptor.openStreams).toBe(2);

    revoke(list, target.jti);

    expect(await stream.status).toEqual(UNAUTHENTICATED("ERR_TOKEN_REVOKED"));
    await handler.cancelled;
    await kept.ping("still up");
    expect(interceptor.openStreams).toBe(1);
    kept.end();
    expect(await kept.status).toEqual(OK);
    expect(interceptor.openStreams).toBe(0);
  });

  it("is ended even when revoked between its verification and its admission", async () => {
    const list = new InMemoryRevocationList();
    const inner = verifierWith(list);
    const verified = deferred();
    const gate = deferred();
    const lagging = {
      async verify(token: string): Promise<ServiceClaims> {
        const claims = await inner.verify(token);
        verified.resolve();
        await gate.promise;
        return claims;
      },
    };
    const { server } = await watched({ verifier: lagging, revocation: list });
    const caller = await mint();

    const stream = server.open("bidi", caller.metadata);
    await verified.promise;
    list.revokeToken(caller.jti);
    // The sweep this change queued has run, over a set without this call, before it is admitted.
    await new Promise((resolve) => setImmediate(resolve));
    gate.resolve();

    expect(await stream.status).toEqual(UNAUTHENTICATED("ERR_TOKEN_REVOKED"));
  });

  it("does not end streams when the feed changes without revoking them", async () => {
    const list = new InMemoryRevocationList();
    const { server, interceptor } = await watched({ revocation: list });
    const caller = await mint();
    const stream = server.open("bidi", caller.metadata);
    await stream.ping("up");

    list.revokeToken("someone-else").revokeSubject("billing", TEST_NOW_SEC + 60);

    await stream.ping("still up");
    expect(interceptor.openStreams).toBe(1);
    stream.end();
    expect(await stream.status).toEqual(OK);
  });
});

/** A feed whose answer the test sets, sync or async, and which says when it changed. */
class ScriptedFeed implements RevocationFeed {
  answer: (token: RevocationQuery) => RevocationStatus | Promise<RevocationStatus> = () => "active";
  readonly #listeners = new Set<() => void>();

  check(token: RevocationQuery): RevocationStatus | Promise<RevocationStatus> {
    return this.answer(token);
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  changed(answer: ScriptedFeed["answer"]): void {
    this.answer = answer;
    for (const listener of this.#listeners) listener();
  }

  get listeners(): number {
    return this.#listeners.size;
  }
}

describe("a stream whose revocation state cannot be vouched for", () => {
  // Failing closed, as at the start of a call: UNAVAILABLE tells the client to retry, not to re-mint.
  const cases: { name: string; answer: ScriptedFeed["answer"]; expected: { code: status; details: string } }[] = [
    { name: "a stale feed", answer: () => "unavailable", expected: { code: status.UNAVAILABLE, details: "ERR_REVOCATION_UNAVAILABLE" } },
    {
      name: "a check that throws",
      answer: () => {
        throw new Error("feed broke");
      },
      expected: { code: status.UNAVAILABLE, details: "ERR_REVOCATION_UNAVAILABLE" },
    },
    { name: "a check that rejects", answer: () => Promise.reject(new Error("feed broke")), expected: { code: status.UNAVAILABLE, details: "ERR_REVOCATION_UNAVAILABLE" } },
    { name: "an answer it does not know", answer: () => "maybe" as RevocationStatus, expected: { code: status.UNAVAILABLE, details: "ERR_REVOCATION_UNAVAILABLE" } },
    { name: "an async revocation", answer: () => Promise.resolve("revoked-jti"), expected: UNAUTHENTICATED("ERR_TOKEN_REVOKED") },
  ];

  it.each(cases)("is ended on $name with $expected.details", async ({ answer, expected }) => {
    const feed = new ScriptedFeed();
    const { server, interceptor } = await watched({ revocation: feed });
    const caller = await mint();
    const stream = server.open("bidi", caller.metadata);
    await stream.ping("up");

    feed.changed(answer);

    expect(await stream.status).toEqual(expected);
    expect(interceptor.openStreams).toBe(0);
  });

  it("is subscribed once per interceptor, and close() unsubscribes", async () => {
    const feed = new ScriptedFeed();
    const { server, interceptor } = await watched({ revocation: feed });
    const streams = await Promise.all([mint(), mint()]).then((callers) => callers.map((caller) => server.open("bidi", caller.metadata)));
    await Promise.all(streams.map((stream) => stream.ping("up")));

    expect(feed.listeners).toBe(1);
    interceptor.close();
    expect(feed.listeners).toBe(0);
  });
});

describe("the open set", () => {
  it("is empty after many calls of every kind that ended normally or were refused", async () => {
    const list = new InMemoryRevocationList().revokeToken("refused-jti");
    const interceptor = createAuthInterceptor({ verifier: verifierWith(list), policies: ECHO_POLICIES, now: testNow, revocation: list });
    const server = await startEchoServer(interceptor);
    try {
      const [valid, revoked] = await Promise.all([mint(), mint({ claims: { jti: "refused-jti" } })]);
      const calls = Array.from({ length: 50 }, (_, index) => CALL_KINDS.map((kind) => server.client.call(kind, index % 5 === 0 ? revoked.metadata : valid.metadata, ["a", "b"])));
      const results = await Promise.all(calls.flat());

      expect(results.filter((result) => result.ok)).toHaveLength(160);
      expect(interceptor.openStreams).toBe(0);
    } finally {
      await server.close();
      interceptor.close();
    }
  });

  it("forgets a stream its client cancels", async () => {
    const { server, interceptor } = await watched({});
    const caller = await mint();
    const stream = server.open("bidi", caller.metadata);
    const handler = await server.handler(caller.jti);
    expect(interceptor.openStreams).toBe(1);

    stream.cancel();
    await handler.cancelled;

    expect(interceptor.openStreams).toBe(0);
  });

  it("never holds a stream its client cancelled while its token was being verified", async () => {
    const inner = verifierWith(undefined);
    const asked = deferred();
    const gate = deferred();
    const verified = deferred();
    const slow = {
      async verify(token: string): Promise<ServiceClaims> {
        asked.resolve();
        await gate.promise;
        const claims = await inner.verify(token);
        verified.resolve();
        return claims;
      },
    };
    // After the auth interceptor, so its onCancel runs once the auth interceptor's has.
    const cancelSeen = deferred();
    const watchCancel: ServerInterceptor = (_method, call) =>
      new ServerInterceptingCall(
        call,
        new ResponderBuilder()
          .withStart((next) => {
            next(
              new ServerListenerBuilder()
                .withOnCancel(() => {
                  cancelSeen.resolve();
                })
                .build(),
            );
          })
          .build(),
      );
    const { server, interceptor } = await watched({ verifier: slow }, watchCancel);
    const caller = await mint();

    const stream = server.open("bidi", caller.metadata);
    await asked.promise;
    stream.cancel();
    await cancelSeen.promise;
    gate.resolve();
    await verified.promise;
    // What is left of the admission after verify resolves runs in microtasks, all done by now.
    await new Promise((resolve) => setImmediate(resolve));

    expect(interceptor.openStreams).toBe(0);
  });
});
