import { Client, credentials, Metadata, status, type ServiceError } from "@grpc/grpc-js";
import type { MethodDefinition } from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTokenInterceptor } from "./client-token-interceptor.js";
import { CALL_KINDS, ECHO_PATHS, echoDefinition, startEchoServer, type CallKind, type EchoServer } from "./fixtures/echo-server.js";
import { TOKEN_FAILURE_STATUS } from "./lib/client-token-status.js";
import { TokenSourceError, type TokenSourceErrorCode } from "./token-source-error.js";
import type { TokenSource } from "./token-source.js";

// The token source here is a stand-in: what is under test is how the interceptor carries its
// answer onto a real call to a real server (the token source itself runs against a real issuer
// in test/grpc).
type GetToken = TokenSource["getToken"];

let server: EchoServer;

beforeAll(async () => {
  server = await startEchoServer();
});
afterAll(async () => {
  await server.close();
});

const methods = echoDefinition["trustmesh.test.v1.Echo"] as unknown as Record<string, MethodDefinition<object, object>>;
const method = (kind: CallKind) => Object.values(methods).find((candidate) => candidate.path === ECHO_PATHS[kind]) as MethodDefinition<object, object>;

type Outcome = { ok: true } | { ok: false; code: status; details: string };

/** One call of `kind` through a client whose only interceptor is the token interceptor. */
function call(getToken: GetToken, kind: CallKind, options: { metadata?: Metadata; deadline?: Date; cancelAfterStart?: boolean } = {}): Promise<Outcome> {
  const client = new Client(server.address, credentials.createInsecure(), {
    interceptors: [createTokenInterceptor({ getToken }, { audience: "payments", scopes: ["payments:refund", "payments:charge"] })],
  });
  const { path, requestSerialize, responseDeserialize } = method(kind);
  const metadata = options.metadata ?? new Metadata();
  const callOptions = options.deadline === undefined ? {} : { deadline: options.deadline };
  // Started from a macrotask, as from an I/O or timer callback: there grpc-js runs its
  // process.nextTick work (an already-passed deadline) before any promise callback.
  return new Promise<Outcome>((resolve) => {
    setImmediate(() => {
      const done = (error: ServiceError | null) => {
        resolve(error === null ? { ok: true } : { ok: false, code: error.code, details: error.details });
      };
      const stream = <T extends NodeJS.EventEmitter>(started: T): T => {
        started.on("data", () => undefined);
        started.on("error", done);
        started.on("end", () => {
          done(null);
        });
        return started;
      };
      let started: { cancel(): void };
      if (kind === "unary") started = client.makeUnaryRequest(path, requestSerialize, responseDeserialize, { text: "hi" }, metadata, callOptions, done);
      else if (kind === "serverStream") started = stream(client.makeServerStreamRequest(path, requestSerialize, responseDeserialize, { text: "hi" }, metadata, callOptions));
      else {
        const writable =
          kind === "clientStream"
            ? client.makeClientStreamRequest(path, requestSerialize, responseDeserialize, metadata, callOptions, done)
            : stream(client.makeBidiStreamRequest(path, requestSerialize, responseDeserialize, metadata, callOptions));
        writable.write({ text: "hi" });
        writable.end();
        started = writable;
      }
      if (options.cancelAfterStart === true) started.cancel();
    });
  }).finally(() => {
    client.close();
  });
}

const never: GetToken = () => new Promise<string>(() => undefined);

describe.each(CALL_KINDS)("%s call", (kind) => {
  it("carries `authorization: Bearer <token>` for the configured audience and sorted scopes", async () => {
    const asked: unknown[] = [];
    const metadata = new Metadata();
    metadata.set("authorization", "Bearer stale");
    metadata.set("x-request-id", "42");
    const before = server.records.length;

    const outcome = await call((audience, scopes) => {
      asked.push([audience, scopes]);
      return Promise.resolve("the-token");
    }, kind, { metadata });

    expect(outcome).toEqual({ ok: true });
    expect(asked).toEqual([["payments", ["payments:charge", "payments:refund"]]]);
    expect(server.records.slice(before).map((record) => record.metadata)).toEqual([expect.objectContaining({ authorization: "Bearer the-token", "x-request-id": "42" })]);
    // The caller's own Metadata object never holds the token.
    expect(metadata.get("authorization")).toEqual(["Bearer stale"]);
  });

  it("fails DEADLINE_EXCEEDED, unsent, when the deadline passes while it waits for a token", async () => {
    const before = server.records.length;
    expect(await call(never, kind, { deadline: new Date(Date.now() + 50) })).toEqual({ ok: false, code: status.DEADLINE_EXCEEDED, details: "Deadline exceeded while waiting for a trustmesh token" });
    expect(server.records.length).toBe(before);
  });

  it("fails DEADLINE_EXCEEDED, unsent, when the deadline had passed before the token came", async () => {
    const before = server.records.length;
    expect(await call(() => Promise.resolve("the-token"), kind, { deadline: new Date(Date.now() - 1) })).toMatchObject({ ok: false, code: status.DEADLINE_EXCEEDED });
    expect(server.records.length).toBe(before);
  });

  it("ends CANCELLED, unsent, when cancelled while it waits for a token", async () => {
    let release: (token: string) => void = () => undefined;
    const before = server.records.length;
    const outcome = call(() => new Promise<string>((resolve) => (release = resolve)), kind, { cancelAfterStart: true });

    expect(await outcome).toMatchObject({ ok: false, code: status.CANCELLED });
    release("late-token");
    expect(server.records.length).toBe(before);
  });
});

describe("a call for which no token can be had", () => {
  const codes = Object.keys(TOKEN_FAILURE_STATUS) as TokenSourceErrorCode[];

  it.each(codes.map((code) => [code, TOKEN_FAILURE_STATUS[code]] as const))("%s fails with status %i and the reason, unsent", async (code, expected) => {
    const before = server.records.length;
    const error = new TokenSourceError(code, `no token for audience "payments": because ${code}`);

    expect(await call(() => Promise.reject(error), "unary")).toEqual({ ok: false, code: expected, details: `${code}: no token for audience "payments": because ${code}` });
    expect(server.records.length).toBe(before);
  });

  it("maps the issuer being unreachable to UNAVAILABLE and a refusal to UNAUTHENTICATED", () => {
    expect(TOKEN_FAILURE_STATUS.ERR_ISSUER_UNREACHABLE).toBe(status.UNAVAILABLE);
    expect(TOKEN_FAILURE_STATUS.ERR_TOKEN_DENIED).toBe(status.UNAUTHENTICATED);
  });

  it.each([
    ["rejects with another error", () => Promise.reject(new Error("secret internals"))],
    ["throws", () => {
      throw new Error("secret internals");
    }],
  ])("fails INTERNAL with fixed text when getToken %s", async (_name, getToken: GetToken) => {
    expect(await call(getToken, "bidi")).toEqual({ ok: false, code: status.INTERNAL, details: "ERR_TOKEN_SOURCE: the token source failed unexpectedly" });
  });
});

describe("createTokenInterceptor options", () => {
  it.each([
    ["no token source", null, { audience: "payments" }, "tokenSource"],
    ["a token source without getToken", {}, { audience: "payments" }, "tokenSource"],
    ["no audience", { getToken: never }, {}, "request"],
    ["an empty audience", { getToken: never }, { audience: "" }, "request"],
    ["a scope with a space", { getToken: never }, { audience: "payments", scopes: ["a b"] }, "request"],
  ])("refuses %s with ERR_TOKEN_SOURCE_OPTIONS", (_name, source, request, option) => {
    expect(() => createTokenInterceptor(source as never, request as never)).toThrow(expect.objectContaining({ code: "ERR_TOKEN_SOURCE_OPTIONS", option }));
  });
});
