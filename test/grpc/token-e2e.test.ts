import { credentials, status } from "@grpc/grpc-js";
import { createTokenInterceptor, createTokenSource, tokenCallCredentials, type TokenRequest, type TokenSource } from "@trustmesh/grpc";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { silentLogger, startClockedIssuer, type ClockedIssuer } from "./clocked-issuer.js";
import { CALL_KINDS, ECHO_AUDIENCE, ECHO_SCOPE, startProtectedEcho, TLS, type EchoCaller, type ProtectedEcho } from "./protected-echo.js";

const LIFETIME_MS = 600_000;
const ECHO: TokenRequest = { audience: ECHO_AUDIENCE, scopes: [ECHO_SCOPE] };
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tokenSourceFor(issuer: ClockedIssuer, id: string, grants: Record<string, readonly string[]>): Promise<TokenSource> {
  const { privateJwk } = await issuer.register(id, grants);
  const source = createTokenSource({
    issuer: { address: issuer.running.grpcAddress, credentials: credentials.createInsecure() },
    issuerUrl: issuer.running.issuer,
    serviceId: id,
    privateJwk,
    now: issuer.clock.now,
    logger: silentLogger,
  });
  cleanups.push(() => source.close());
  return source;
}

function track(caller: EchoCaller): EchoCaller {
  cleanups.push(() => {
    caller.close();
  });
  return caller;
}

describe("a client with the token interceptor calling a protected server over loopback", () => {
  let issuer: ClockedIssuer;
  let plain: ProtectedEcho;
  let tls: ProtectedEcho;

  beforeAll(async () => {
    issuer = await startClockedIssuer();
    plain = await startProtectedEcho(issuer);
    tls = await startProtectedEcho(issuer, { tls: true });
  });
  afterAll(async () => {
    await plain.close();
    await tls.close();
    await issuer.close();
  });

  it.each(CALL_KINDS)("insecure channel, %s call: the server sees the verified caller", async (kind) => {
    const source = await tokenSourceFor(issuer, `orders-${kind.toLowerCase()}`, { [ECHO_AUDIENCE]: [ECHO_SCOPE] });
    const client = track(plain.client(credentials.createInsecure(), { interceptors: [createTokenInterceptor(source, ECHO)] }));

    expect(await client.call(kind, ["one", "two"])).toMatchObject({ ok: true, callers: [`orders-${kind.toLowerCase()}`] });
    expect(await client.call(kind)).toMatchObject({ ok: true });
    expect(issuer.count(`orders-${kind.toLowerCase()}`).issued).toBe(1);
  });

  it.each(CALL_KINDS)("TLS channel with tokenCallCredentials, %s call: the server sees the verified caller", async (kind) => {
    const source = await tokenSourceFor(issuer, `inventory-${kind.toLowerCase()}`, { [ECHO_AUDIENCE]: [ECHO_SCOPE] });
    const channel = credentials.combineChannelCredentials(credentials.createSsl(TLS.cert), tokenCallCredentials(source, ECHO));
    const client = track(tls.client(channel, { "grpc.ssl_target_name_override": "localhost" }));

    expect(await client.call(kind, ["one", "two"])).toMatchObject({ ok: true, callers: [`inventory-${kind.toLowerCase()}`] });
  });

  it.each(CALL_KINDS)("%s call without a grant for the audience fails UNAUTHENTICATED before it is sent, with the reason", async (kind) => {
    const before = plain.handled();
    const source = await tokenSourceFor(issuer, `stranger-${kind.toLowerCase()}`, { ledger: [] });
    const client = track(plain.client(credentials.createInsecure(), { interceptors: [createTokenInterceptor(source, ECHO)] }));
    const viaCredentials = track(tls.client(credentials.combineChannelCredentials(credentials.createSsl(TLS.cert), tokenCallCredentials(source, ECHO))));

    for (const result of [await client.call(kind), await viaCredentials.call(kind)]) {
      expect(result).toMatchObject({ ok: false, code: status.UNAUTHENTICATED });
      expect(result.ok ? "" : result.details).toMatch(/ERR_TOKEN_DENIED: no token for audience "echo" with scopes echo:call: the issuer at \S+ refused/);
    }
    expect(plain.handled()).toBe(before);
  });

  it("a token without the scope the method requires is refused by the server (PERMISSION_DENIED)", async () => {
    const source = await tokenSourceFor(issuer, "orders", { [ECHO_AUDIENCE]: ["echo:read"] });
    const client = track(plain.client(credentials.createInsecure(), { interceptors: [createTokenInterceptor(source, { audience: ECHO_AUDIENCE, scopes: ["echo:read"] })] }));

    expect(await client.call("unary")).toEqual({ ok: false, code: status.PERMISSION_DENIED, details: "ERR_SCOPE_MISSING" });
  });
});

describe("calls while the issuer is down", () => {
  let issuer: ClockedIssuer;
  let server: ProtectedEcho;
  let client: EchoCaller;
  let source: TokenSource;

  beforeAll(async () => {
    issuer = await startClockedIssuer();
    server = await startProtectedEcho(issuer);
    const { privateJwk } = await issuer.register("orders", { [ECHO_AUDIENCE]: [ECHO_SCOPE] });
    source = createTokenSource({
      issuer: { address: issuer.running.grpcAddress, credentials: credentials.createInsecure() },
      issuerUrl: issuer.running.issuer,
      serviceId: "orders",
      privateJwk,
      now: issuer.clock.now,
      logger: silentLogger,
      minRetryMs: 10,
      maxRetryMs: 20,
    });
    client = server.client(credentials.createInsecure(), { interceptors: [createTokenInterceptor(source, ECHO)] });
    expect(await client.call("unary")).toMatchObject({ ok: true });
    await issuer.running.close(0);
  });
  afterAll(async () => {
    client.close();
    await source.close();
    await server.close();
    await issuer.close();
  });

  it("keep working with the cached token until it expires, on every call kind", async () => {
    issuer.clock.advance(LIFETIME_MS * 0.9);
    for (const kind of CALL_KINDS) expect(await client.call(kind)).toMatchObject({ ok: true, callers: ["orders"] });
  });

  it("then fail UNAVAILABLE, saying that the issuer is unreachable, on every call kind", async () => {
    issuer.clock.advance(LIFETIME_MS * 0.1);
    const handled = server.handled();
    for (const kind of CALL_KINDS) {
      const result = await client.call(kind);
      expect(result).toMatchObject({ ok: false, code: status.UNAVAILABLE });
      expect(result.ok ? "" : result.details).toMatch(
        new RegExp(`^ERR_ISSUER_UNREACHABLE: no token for audience "echo" with scopes echo:call: the issuer at ${issuer.running.grpcAddress.replace(/\./g, "\\.")} is unreachable \\((IssueToken|RefreshToken): UNAVAILABLE`),
      );
    }
    expect(server.handled()).toBe(handled);
  });
});
