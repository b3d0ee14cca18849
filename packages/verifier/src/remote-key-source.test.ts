import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { generateTestKey, mintTestToken, TEST_AUDIENCE, TEST_ISSUER, TEST_NOW_SEC, type TestSigningKey } from "@trustmesh/testing";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  createRemoteKeySource,
  createVerifier,
  VerifierOptionsError,
  VerifyError,
  type JsonWebKey,
  type RemoteKeySource,
  type RemoteKeySourceOptions,
  type Verifier,
  type VerifierLogger,
  type VerifyErrorCode,
} from "./index.js";

const JWKS_PATH = "/.well-known/jwks.json";
const REDIRECT_TARGET = "/elsewhere/jwks.json";
const MAX_RESPONSE_BYTES = 4096;
const WAIT_MS = 5_000;
const FAILED_FETCH = "JWKS fetch failed; keeping the keys already loaded";

/** The JWKS path with a tag, so that each key source has its own URL and its requests can be counted apart. */
const taggedPath = (tag: string): string => `${JWKS_PATH}?source=${tag}`;

/** How the JWKS endpoint answers; the redirect target always serves the key set. */
type Behaviour = "serve" | "hold" | "http-500" | "not-json" | "not-a-key-set" | "empty-key-set" | "oversized-declared" | "oversized-streamed" | "redirect";

interface JwksServer {
  /** The JWKS URL, or its `taggedPath` one. */
  url(tag?: string): string;
  keys: JsonWebKey[];
  behaviour: Behaviour;
  /** Requests that arrived for a path (with its query). */
  requests(path?: string): number;
  /** Resolves once `count` requests have arrived for the path. */
  requestCount(count: number, path?: string): Promise<void>;
  /** Answers the held requests with the key set. */
  release(): void;
  /** Resolves once every held response's connection has closed. */
  heldClosed(): Promise<void>;
  close(): Promise<void>;
}

/** A real JWKS endpoint on 127.0.0.1 and a free port, answering as `behaviour` says. */
async function startJwksServer(keys: JsonWebKey[]): Promise<JwksServer> {
  const counts = new Map<string, number>();
  const waiters: { path: string; count: number; resolve: () => void }[] = [];
  const held: ServerResponse[] = [];
  const body = (extra: Record<string, unknown> = {}): string => JSON.stringify({ keys: state.keys, ...extra });
  const oversized = (): string => body({ padding: "x".repeat(MAX_RESPONSE_BYTES) });

  const server = createServer((request, response) => {
    const path = request.url ?? "";
    counts.set(path, (counts.get(path) ?? 0) + 1);
    for (const waiter of [...waiters]) {
      if ((counts.get(waiter.path) ?? 0) >= waiter.count) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
    const json = { "content-type": "application/json" };
    if (path.startsWith(REDIRECT_TARGET)) {
      response.writeHead(200, json).end(body());
      return;
    }
    switch (state.behaviour) {
      case "serve":
        response.writeHead(200, json).end(body());
        return;
      case "hold":
        held.push(response);
        return;
      case "http-500":
        response.writeHead(500, { "content-type": "text/plain" }).end("internal error");
        return;
      case "not-json":
        response.writeHead(200, { "content-type": "text/html" }).end("<html>down for maintenance</html>");
        return;
      case "not-a-key-set":
        response.writeHead(200, json).end(JSON.stringify({ keys: "none" }));
        return;
      case "empty-key-set":
        response.writeHead(200, json).end(JSON.stringify({ keys: [] }));
        return;
      case "oversized-declared": {
        // A valid key set but for its size, so only the limit can be what refuses it.
        const text = oversized();
        response.writeHead(200, { ...json, "content-length": Buffer.byteLength(text) }).end(text);
        return;
      }
      case "oversized-streamed": {
        const text = oversized();
        response.writeHead(200, json);
        for (let i = 0; i < text.length; i += 512) response.write(text.slice(i, i + 512));
        response.end();
        return;
      }
      case "redirect":
        response.writeHead(302, { location: REDIRECT_TARGET }).end();
        return;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let closing: Promise<void> | undefined;
  const state: JwksServer = {
    url: (tag) => `${origin}${tag === undefined ? JWKS_PATH : taggedPath(tag)}`,
    keys,
    behaviour: "serve",
    requests: (path = JWKS_PATH) => counts.get(path) ?? 0,
    requestCount: (count, path = JWKS_PATH) =>
      within(
        new Promise<void>((resolve) => {
          if ((counts.get(path) ?? 0) >= count) resolve();
          else waiters.push({ path, count, resolve });
        }),
        `${count} requests for ${path}`,
      ),
    release() {
      for (const response of held.splice(0)) response.writeHead(200, { "content-type": "application/json" }).end(body());
    },
    heldClosed: () =>
      within(
        Promise.all(held.map((response) => (response.destroyed ? Promise.resolve() : new Promise((resolve) => response.once("close", resolve))))).then(
          () => undefined,
        ),
        "held connections to close",
      ),
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      });
      return closing;
    },
  };
  return state;
}

/** Rejects when the promise has not settled in time, instead of hanging the test. */
async function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`timed out waiting for ${what}`));
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** True when the promise has settled by the time already-queued I/O callbacks have run. */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  const settled = promise.then(
    () => true,
    () => true,
  );
  const pending = new Promise<boolean>((resolve) => {
    setImmediate(() => {
      resolve(false);
    });
  });
  return Promise.race([settled, pending]);
}

async function codeOf(promise: Promise<unknown>): Promise<VerifyErrorCode> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(VerifyError);
    return (error as VerifyError).code;
  }
  throw new Error("expected the token to be rejected");
}

interface Warning {
  readonly fields: Readonly<Record<string, unknown>>;
  readonly message: string;
}

let ed: TestSigningKey;
let es: TestSigningKey;
let late: TestSigningKey;
let other: TestSigningKey;
let edToken: string;
let esToken: string;
let lateToken: string;
let warnings: Warning[] = [];
const logger: VerifierLogger = {
  warn(fields, message) {
    warnings.push({ fields, message });
  },
};
const toClose: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  [ed, es, late, other] = await Promise.all([generateTestKey("EdDSA"), generateTestKey("ES256"), generateTestKey("EdDSA"), generateTestKey("EdDSA")]);
  const mint = (key: TestSigningKey): Promise<string> => mintTestToken(key, { nowSec: TEST_NOW_SEC });
  [edToken, esToken, lateToken] = await Promise.all([mint(ed), mint(es), mint(late)]);
});

afterEach(async () => {
  // Sources first, so no fetch is in flight when the servers go.
  for (const resource of toClose.splice(0).reverse()) await resource.close();
  warnings = [];
});

async function jwksServer(...keys: TestSigningKey[]): Promise<JwksServer> {
  const server = await startJwksServer(keys.map((key) => key.publicJwk));
  toClose.unshift(server);
  return server;
}

function keySource(options: RemoteKeySourceOptions): RemoteKeySource {
  const source = createRemoteKeySource({ logger, ...options });
  toClose.push(source);
  return source;
}

function verifierOf(source: RemoteKeySource, cacheMaxEntries?: number): Verifier {
  return createVerifier({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, keySource: source, now: () => TEST_NOW_SEC * 1000, logger, cacheMaxEntries });
}

describe("loading", () => {
  it("ready() resolves only after the first load; tokens then verify through the key source", async () => {
    const server = await jwksServer(ed, es);
    server.behaviour = "hold";
    const source = keySource({ url: server.url() });
    await server.requestCount(1);
    expect(await isSettled(source.ready())).toBe(false);
    expect(source.loaded).toBe(false);
    server.behaviour = "serve";
    server.release();
    await within(source.ready(), "ready()");
    expect(source.loaded).toBe(true);
    const verifier = verifierOf(source);
    await expect(verifier.verify(edToken)).resolves.toMatchObject({ kid: ed.kid });
    await expect(verifier.verify(esToken)).resolves.toMatchObject({ kid: es.kid });
    expect(server.requests()).toBe(1);
    expect(warnings).toEqual([]);
  });

  it("before any successful load, verify rejects with ERR_KEYS_UNAVAILABLE", async () => {
    const server = await jwksServer(ed);
    server.behaviour = "http-500";
    const source = keySource({ url: server.url() });
    expect(await codeOf(verifierOf(source).verify(edToken))).toBe("ERR_KEYS_UNAVAILABLE");
    expect(source.loaded).toBe(false);
    expect(warnings).toContainEqual({ message: FAILED_FETCH, fields: expect.objectContaining({ keys: 0 }) as unknown });
    server.behaviour = "serve";
    expect(await within(source.refresh(), "refresh()")).toBe(true);
    await within(source.ready(), "ready()");
    await expect(verifierOf(source).verify(edToken)).resolves.toMatchObject({ kid: ed.kid });
  });

  it("retries a failed first load by itself", async () => {
    const server = await jwksServer(ed);
    server.behaviour = "http-500";
    const source = keySource({ url: server.url() });
    await server.requestCount(1);
    server.behaviour = "serve";
    await within(source.ready(), "ready() after the retry");
    expect(server.requests()).toBe(2);
  });

  it("refreshes on its interval, picking up a new key with no unknown kid needed", async () => {
    const server = await jwksServer(ed);
    const source = keySource({ url: server.url(), refreshIntervalMs: 20 });
    await within(source.ready(), "ready()");
    server.keys = [ed.publicJwk, es.publicJwk];
    // Loads run one after another, so the third request means the second one's answer is in.
    await server.requestCount(3);
    expect(source.current(es.kid)).toMatchObject({ kid: es.kid, alg: "ES256" });
  });
});

describe("unknown kid", () => {
  it("refetches at most once per cooldown; a key added on the server meanwhile becomes usable", async () => {
    const server = await jwksServer(ed);
    let nowMs = 1_000_000;
    const source = keySource({ url: server.url(), unknownKidCooldownMs: 10_000, now: () => nowMs });
    await within(source.ready(), "ready()");
    const verifier = verifierOf(source);

    server.keys = [ed.publicJwk, es.publicJwk];
    await expect(verifier.verify(esToken)).resolves.toMatchObject({ kid: es.kid });
    expect(server.requests()).toBe(2);

    server.keys = [ed.publicJwk, es.publicJwk, late.publicJwk];
    nowMs += 9_999;
    expect(await codeOf(verifier.verify(lateToken))).toBe("ERR_KEY_NOT_FOUND");
    expect(await codeOf(verifier.verify(await mintTestToken(other, { nowSec: TEST_NOW_SEC })))).toBe("ERR_KEY_NOT_FOUND");
    expect(server.requests()).toBe(2);

    nowMs += 1;
    await expect(verifier.verify(lateToken)).resolves.toMatchObject({ kid: late.kid });
    expect(server.requests()).toBe(3);
  });

  it("concurrent verifies of unknown kids wait for one shared refetch", async () => {
    const server = await jwksServer(ed);
    const source = keySource({ url: server.url() });
    await within(source.ready(), "ready()");
    const verifier = verifierOf(source);
    const added = await Promise.all([1, 2, 3, 4, 5].map(() => generateTestKey("EdDSA")));
    server.keys = [ed, ...added].map((key) => key.publicJwk);
    const tokens = await Promise.all(added.map((key) => mintTestToken(key, { nowSec: TEST_NOW_SEC })));
    const claims = await within(Promise.all(tokens.map((token) => verifier.verify(token))), "the verifies");
    expect(claims.map((c) => c.kid)).toEqual(added.map((key) => key.kid));
    expect(server.requests()).toBe(2);
  });
});

describe("while the issuer fails", () => {
  const cases: [string, Behaviour | "down", RegExp][] = [
    ["answers HTTP 500", "http-500", /HTTP 500/],
    ["answers a body that is not JSON", "not-json", /SyntaxError/],
    ["answers JSON that is not a key set", "not-a-key-set", /not a JSON Web Key Set/],
    ["answers an empty key set", "empty-key-set", /no usable key/],
    ["declares a body over maxResponseBytes", "oversized-declared", /larger than the limit/],
    ["streams a body over maxResponseBytes", "oversized-streamed", /larger than the limit/],
    ["does not answer within fetchTimeoutMs", "hold", /TimeoutError/],
    ["redirects elsewhere", "redirect", /TypeError/],
    ["is down", "down", /TypeError/],
  ];
  it.each(cases)("that %s, the keys already loaded keep serving and a warning is logged", async (_name, failure, error) => {
    const server = await jwksServer(ed);
    const source = keySource({ url: server.url(), fetchTimeoutMs: 200, maxResponseBytes: MAX_RESPONSE_BYTES });
    await within(source.ready(), "ready()");
    // No cache: each verify has to find its key in the source.
    const verifier = verifierOf(source, 0);
    const key = source.current(ed.kid);
    if (failure === "down") await server.close();
    else server.behaviour = failure;
    const [refreshed, claims] = await within(Promise.all([source.refresh(), verifier.verify(edToken)]), "refresh() and verify()");
    expect(refreshed).toBe(false);
    expect(claims).toMatchObject({ kid: ed.kid });
    expect(source.current(ed.kid)).toBe(key);
    await expect(verifier.verify(edToken)).resolves.toMatchObject({ kid: ed.kid });
    expect(warnings).toEqual([{ message: FAILED_FETCH, fields: { url: server.url(), keys: 1, error: expect.stringMatching(error) as unknown } }]);
    expect(server.requests(REDIRECT_TARGET)).toBe(0);
  });

  it("a redirect is not followed, not even for the first load", async () => {
    const server = await jwksServer(ed);
    server.behaviour = "redirect";
    const source = keySource({ url: server.url() });
    await server.requestCount(1);
    expect(await codeOf(verifierOf(source).verify(edToken))).toBe("ERR_KEYS_UNAVAILABLE");
    expect(source.loaded).toBe(false);
    expect(server.requests(REDIRECT_TARGET)).toBe(0);
  });
});

describe("refresh", () => {
  it("a key removed from the JWKS stops verifying, also for tokens cached under it", async () => {
    const server = await jwksServer(ed, es);
    const source = keySource({ url: server.url() });
    await within(source.ready(), "ready()");
    const verifier = verifierOf(source);
    await verifier.verify(edToken);
    await verifier.verify(edToken);
    expect(verifier.cacheStats()).toMatchObject({ size: 1, hits: 1 });

    server.keys = [es.publicJwk];
    expect(await within(source.refresh(), "refresh()")).toBe(true);
    expect(source.current(ed.kid)).toBeUndefined();
    expect(await codeOf(verifier.verify(edToken))).toBe("ERR_KEY_NOT_FOUND");
    expect(verifier.cacheStats().size).toBe(0);
    await expect(verifier.verify(esToken)).resolves.toMatchObject({ kid: es.kid });
  });

  it("a key replaced under the same kid does not verify the old key's tokens, cached or not", async () => {
    const server = await jwksServer(ed);
    const source = keySource({ url: server.url() });
    await within(source.ready(), "ready()");
    const verifier = verifierOf(source);
    await verifier.verify(edToken);

    server.keys = [{ ...other.publicJwk, kid: ed.kid }];
    expect(await within(source.refresh(), "refresh()")).toBe(true);
    expect(await codeOf(verifier.verify(edToken))).toBe("ERR_SIGNATURE_INVALID");
    expect(verifier.cacheStats().size).toBe(0);
  });

  it("an unchanged key keeps its identity, so tokens cached under it stay cached", async () => {
    const server = await jwksServer(ed);
    const source = keySource({ url: server.url() });
    await within(source.ready(), "ready()");
    const verifier = verifierOf(source);
    await verifier.verify(edToken);
    const key = source.current(ed.kid);

    server.keys = [es.publicJwk, ed.publicJwk];
    expect(await within(source.refresh(), "refresh()")).toBe(true);
    expect(source.current(ed.kid)).toBe(key);
    await verifier.verify(edToken);
    expect(verifier.cacheStats()).toMatchObject({ size: 1, hits: 1 });
  });
});

describe("close", () => {
  it("stops the refresh timer", async () => {
    const server = await jwksServer(ed);
    const [closed, running] = [keySource({ url: server.url("closed"), refreshIntervalMs: 20 }), keySource({ url: server.url("running"), refreshIntervalMs: 20 })];
    await within(Promise.all([closed.ready(), running.ready()]), "both ready()");
    // Right after ready() no fetch of its own is in flight and the next one is not yet scheduled.
    await closed.close();
    // The other source ticking on is the clock: five of its refreshes, and none from the closed one.
    await server.requestCount(server.requests(taggedPath("running")) + 5, taggedPath("running"));
    expect(server.requests(taggedPath("closed"))).toBe(1);
    expect(await closed.refresh()).toBe(false);
    expect(server.requests(taggedPath("closed"))).toBe(1);
  });

  it("aborts a fetch in flight, quietly; ready() then rejects", async () => {
    const server = await jwksServer(ed);
    server.behaviour = "hold";
    // A fetch timeout far beyond the wait, so only close() can end the request.
    const source = keySource({ url: server.url(), fetchTimeoutMs: 60_000 });
    await server.requestCount(1);
    await source.close();
    await expect(within(source.ready(), "ready()")).rejects.toThrow(/closed/);
    await server.heldClosed();
    expect(warnings).toEqual([]);
  });

  it("ready() rejects after close() when the key set never loaded", async () => {
    const server = await jwksServer(ed);
    server.behaviour = "http-500";
    const source = keySource({ url: server.url() });
    await server.requestCount(1);
    await source.close();
    await expect(within(source.ready(), "ready()")).rejects.toThrow(/closed/);
    expect(await codeOf(verifierOf(source).verify(edToken))).toBe("ERR_KEYS_UNAVAILABLE");
  });

  it("ready() stays resolved after close() once loaded, and loaded keys still answer", async () => {
    const server = await jwksServer(ed);
    const source = keySource({ url: server.url() });
    await within(source.ready(), "ready()");
    await source.close();
    await expect(source.ready()).resolves.toBeUndefined();
    await expect(verifierOf(source).verify(edToken)).resolves.toMatchObject({ kid: ed.kid });
  });
});

describe("options are validated at construction", () => {
  it.each([
    ["plain http to a host name", { url: "http://issuer.trustmesh.test/.well-known/jwks.json" }, "url"],
    ["plain http to a private address", { url: "http://10.0.0.8/.well-known/jwks.json" }, "url"],
    ["plain http to a name that only starts like loopback", { url: "http://127.0.0.1.example.test/.well-known/jwks.json" }, "url"],
    ["another scheme", { url: "ftp://127.0.0.1/.well-known/jwks.json" }, "url"],
    ["a file URL", { url: "file:///etc/jwks.json" }, "url"],
    ["credentials in the URL", { url: "https://user:secret@issuer.trustmesh.test/.well-known/jwks.json" }, "url"],
    ["not a URL", { url: "issuer.trustmesh.test/jwks" }, "url"],
    ["a zero refresh interval", { refreshIntervalMs: 0 }, "refreshIntervalMs"],
    ["a negative cooldown", { unknownKidCooldownMs: -1 }, "unknownKidCooldownMs"],
    ["a fractional timeout", { fetchTimeoutMs: 1.5 }, "fetchTimeoutMs"],
    ["a NaN size limit", { maxResponseBytes: Number.NaN }, "maxResponseBytes"],
  ])("refuses %s", (_name, change, option) => {
    const options = { url: "https://issuer.trustmesh.test/.well-known/jwks.json", ...change };
    expect(() => createRemoteKeySource(options)).toThrow(VerifierOptionsError);
    expect(() => createRemoteKeySource(options)).toThrow(expect.objectContaining({ code: "ERR_VERIFIER_OPTIONS", option }) as Error);
  });

  it.each([
    ["https", { url: "https://issuer.trustmesh.test/.well-known/jwks.json" }],
    ["plain http to localhost", { url: "http://localhost:9/.well-known/jwks.json" }],
    ["plain http to 127.0.0.2", { url: "http://127.0.0.2:9/.well-known/jwks.json" }],
    ["plain http to [::1]", { url: "http://[::1]:9/.well-known/jwks.json" }],
    ["plain http to a host name with dangerouslyAllowInsecureHttp", { url: "http://issuer.trustmesh.test/.well-known/jwks.json", dangerouslyAllowInsecureHttp: true }],
  ])("accepts %s", async (_name, options) => {
    // Closed at once: this is about construction, and close() aborts the first fetch.
    await keySource(options).close();
    expect(warnings).toEqual([]);
  });
});
