import { setTimeout as delay } from "node:timers/promises";
import { status } from "@grpc/grpc-js";
import { createTokenSource, TokenSourceError, type TokenSource, type TokenSourceOptions } from "@trustmesh/grpc";
import { mintClientAssertion } from "@trustmesh/testing";
import type { issuerV1 } from "@trustmesh/proto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { claimsOf, eventLogger, recordingIssuerClient, silentLogger, startClockedIssuer, type ClockedIssuer, type RegisteredService } from "./clocked-issuer.js";

const LIFETIME_MS = 600_000;
const GRANTS = { payments: ["payments:charge", "payments:refund"], inventory: ["inventory:read"] };
const CHARGE = ["payments:charge"];

let serviceCount = 0;
/** Closed after each test; a describe that shares a source across tests closes its own. */
const sources: TokenSource[] = [];

/** A registered service and a token source for it, with the issuer calls it makes on record. */
async function service(issuer: ClockedIssuer, options: Partial<TokenSourceOptions> = {}, closeAfterEach = true) {
  const registered = await issuer.register(`svc-${++serviceCount}`, GRANTS);
  const recording = recordingIssuerClient(issuer.running.grpcAddress);
  const logger = eventLogger();
  const source = createTokenSource({
    issuer: recording.client,
    issuerUrl: issuer.running.issuer,
    serviceId: registered.id,
    privateJwk: registered.privateJwk,
    now: issuer.clock.now,
    logger,
    ...options,
  });
  if (closeAfterEach) sources.push(source);
  return { ...registered, source, recording, logger, methods: () => recording.calls.map((call) => call.method) };
}

afterEach(async () => {
  await Promise.all(sources.splice(0).map((source) => source.close()));
});

async function rejection(promise: Promise<unknown>): Promise<TokenSourceError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof TokenSourceError)) throw new Error(`expected a TokenSourceError, got ${String(error)}`);
  return error;
}

describe("a token source against a real issuer", () => {
  let issuer: ClockedIssuer;

  beforeAll(async () => {
    issuer = await startClockedIssuer();
  });
  afterAll(async () => {
    await issuer.close();
  });

  it("answers 1,000 concurrent getToken calls on a cold cache with exactly one IssueToken", async () => {
    const { id, source, methods } = await service(issuer);
    const tokens = await Promise.all(Array.from({ length: 1000 }, () => source.getToken("payments", CHARGE)));

    expect(new Set(tokens).size).toBe(1);
    expect(issuer.count(id)).toEqual({ issued: 1, refreshed: 0, refused: 0 });
    expect(methods()).toEqual(["IssueToken"]);
    expect(claimsOf(tokens[0] ?? "")).toMatchObject({ sub: id, aud: "payments", scope: "payments:charge" });
  });

  it("caches one token per audience and set of scopes, in any order and with duplicates", async () => {
    const { id, source } = await service(issuer);
    const both = await source.getToken("payments", ["payments:refund", "payments:charge"]);

    expect(await source.getToken("payments", ["payments:charge", "payments:refund"])).toBe(both);
    expect(await source.getToken("payments", ["payments:charge", "payments:refund", "payments:charge"])).toBe(both);
    const charge = await source.getToken("payments", CHARGE);
    const none = await source.getToken("payments");
    const inventory = await source.getToken("inventory", ["inventory:read"]);
    expect(new Set([both, charge, none, inventory]).size).toBe(4);
    expect(await source.getToken("payments", [])).toBe(none);
    expect(issuer.count(id).issued).toBe(4);
    expect([both, charge, none, inventory].map((token) => [claimsOf(token)["aud"], claimsOf(token)["scope"]])).toEqual([
      ["payments", "payments:charge payments:refund"],
      ["payments", "payments:charge"],
      ["payments", ""],
      ["inventory", "inventory:read"],
    ]);
  });

  it("renews ahead of expiry with one RefreshToken per renewal, presenting the rotated refresh token each time", async () => {
    const { id, source, methods, logger } = await service(issuer);
    const first = await source.getToken("payments", CHARGE);

    issuer.clock.advance(LIFETIME_MS * 0.7);
    expect(await source.getToken("payments", CHARGE)).toBe(first);
    expect(methods()).toEqual(["IssueToken"]);

    issuer.clock.advance(LIFETIME_MS * 0.11);
    const renewed = logger.next("token obtained");
    // Still valid: handed out at once while the renewal runs, and only one renewal for many callers.
    expect(await Promise.all([source.getToken("payments", CHARGE), source.getToken("payments", CHARGE)])).toEqual([first, first]);
    expect((await renewed).fields).toMatchObject({ via: "refresh", audience: "payments" });
    const second = await source.getToken("payments", CHARGE);
    expect(second).not.toBe(first);
    expect(methods()).toEqual(["IssueToken", "RefreshToken"]);

    // A spent refresh token presented again would be refused as reuse and revoke the family.
    issuer.clock.advance(LIFETIME_MS * 0.81);
    const again = logger.next("token obtained");
    expect(await source.getToken("payments", CHARGE)).toBe(second);
    expect((await again).fields).toMatchObject({ via: "refresh" });
    expect(await source.getToken("payments", CHARGE)).not.toBe(second);
    expect(issuer.count(id)).toEqual({ issued: 1, refreshed: 2, refused: 0 });
  });

  it("waits for a new token once the cached one has expired", async () => {
    const { id, source } = await service(issuer);
    const first = await source.getToken("payments", CHARGE);
    issuer.clock.advance(LIFETIME_MS);

    const next = await source.getToken("payments", CHARGE);
    expect(next).not.toBe(first);
    expect(claimsOf(next)["exp"]).toBe(Math.floor(issuer.clock.now() / 1000) + LIFETIME_MS / 1000);
    expect(issuer.count(id)).toEqual({ issued: 1, refreshed: 1, refused: 0 });
  });

  it("falls back to IssueToken when its refresh token was spent by someone else", async () => {
    const svc = await service(issuer);
    const { id, source, recording, methods, logger } = svc;
    const first = await source.getToken("payments", CHARGE);
    await thiefRefreshes(issuer, svc, recording.calls[0]?.response?.refreshToken ?? "");

    issuer.clock.advance(LIFETIME_MS * 0.81);
    const renewed = logger.next("token obtained");
    expect(await source.getToken("payments", CHARGE)).toBe(first);
    expect((await renewed).fields).toMatchObject({ via: "issue" });
    expect(await source.getToken("payments", CHARGE)).not.toBe(first);
    expect(methods()).toEqual(["IssueToken", "RefreshToken", "IssueToken"]);
    expect(recording.calls[1]?.code).toBe(status.UNAUTHENTICATED);
    expect(issuer.logs.some((line) => line.msg === "refresh token reused: family revoked" && line["clientId"] === id)).toBe(true);
  });

  it.each([
    ["an audience not granted", "ledger", [], status.PERMISSION_DENIED],
    ["a scope not granted", "payments", ["payments:admin"], status.PERMISSION_DENIED],
  ])("rejects %s with ERR_TOKEN_DENIED, and does not ask again before maxRetryMs", async (_name, audience, scopes, issuerStatus) => {
    const { id, source, methods } = await service(issuer, { maxRetryMs: 60_000 });
    const errors = await Promise.all(Array.from({ length: 100 }, () => rejection(source.getToken(audience, scopes))));

    expect(errors[0]).toMatchObject({ code: "ERR_TOKEN_DENIED", issuerStatus, audience });
    expect(errors[0]?.message).toContain(`no token for audience "${audience}"`);
    expect(new Set(errors.map((error) => error.code))).toEqual(new Set(["ERR_TOKEN_DENIED"]));
    expect(await rejection(source.getToken(audience, scopes))).toBe(errors[0]);
    expect(methods()).toEqual(["IssueToken"]);

    issuer.clock.advance(60_000);
    expect((await rejection(source.getToken(audience, scopes))).code).toBe("ERR_TOKEN_DENIED");
    expect(methods()).toEqual(["IssueToken", "IssueToken"]);
    expect(issuer.count(id).refused).toBe(2);
  });

  it("rejects a service whose key the issuer does not know with ERR_TOKEN_DENIED (UNAUTHENTICATED)", async () => {
    const { privateJwk } = await issuer.register(`svc-${++serviceCount}`, GRANTS);
    const impostor = createTokenSource({ issuer: recordingIssuerClient(issuer.running.grpcAddress).client, issuerUrl: issuer.running.issuer, serviceId: "nobody", privateJwk, now: issuer.clock.now, logger: silentLogger });
    sources.push(impostor);
    expect(await rejection(impostor.getToken("payments"))).toMatchObject({ code: "ERR_TOKEN_DENIED", issuerStatus: status.UNAUTHENTICATED });
  });

  it.each([
    ["an empty audience", "", []],
    ["a scope with a space", "payments", ["payments charge"]],
  ])("refuses %s with ERR_TOKEN_REQUEST_INVALID without calling the issuer", async (_name, audience, scopes) => {
    const { source, methods } = await service(issuer);
    expect((await rejection(source.getToken(audience, scopes))).code).toBe("ERR_TOKEN_REQUEST_INVALID");
    expect(methods()).toEqual([]);
  });

  it("rejects waiters and cancels its call when closed mid-flight, and hands out nothing after", async () => {
    const { source } = await service(issuer);
    const waiting = rejection(source.getToken("payments", CHARGE));
    await source.close();

    expect((await waiting).code).toBe("ERR_TOKEN_SOURCE_CLOSED");
    expect((await rejection(source.getToken("payments", CHARGE))).code).toBe("ERR_TOKEN_SOURCE_CLOSED");
  });
});

describe("a token source whose refresh token has expired", () => {
  let issuer: ClockedIssuer;

  beforeAll(async () => {
    // The shortest refresh lifetime the issuer allows, just over the access token's.
    issuer = await startClockedIssuer({ TRUSTMESH_ACCESS_TOKEN_TTL_SEC: "300", TRUSTMESH_REFRESH_TOKEN_TTL_SEC: "301" });
  });
  afterAll(async () => {
    await issuer.close();
  });

  it("renews with IssueToken, without presenting the expired refresh token", async () => {
    const { id, source, methods } = await service(issuer);
    const first = await source.getToken("payments", CHARGE);
    issuer.clock.advance(302_000);

    const renewed = await source.getToken("payments", CHARGE);
    expect(renewed).not.toBe(first);
    expect(methods()).toEqual(["IssueToken", "IssueToken"]);
    expect(issuer.count(id)).toEqual({ issued: 2, refreshed: 0, refused: 0 });
  });
});

describe("a token source while the issuer is down", () => {
  let issuer: ClockedIssuer;
  let backoff: Awaited<ReturnType<typeof service>>;
  let closing: Awaited<ReturnType<typeof service>>;
  let first: string;

  beforeAll(async () => {
    issuer = await startClockedIssuer();
    backoff = await service(issuer, { minRetryMs: 20, maxRetryMs: 80, jitterRatio: 0 }, false);
    closing = await service(issuer, { minRetryMs: 5, maxRetryMs: 10 }, false);
    first = await backoff.source.getToken("payments", CHARGE);
    await closing.source.getToken("payments", CHARGE);
    await issuer.running.close(0);
    issuer.clock.advance(LIFETIME_MS * 0.81);
  });
  afterAll(async () => {
    await backoff.source.close();
    await closing.source.close();
    await issuer.close();
  });

  it("keeps handing out its token, retrying in the background with exponential backoff, and never presents a refresh token twice", async () => {
    const { source, recording } = backoff;
    expect(await source.getToken("payments", CHARGE)).toBe(first);
    // The first attempt is a RefreshToken and, when it fails, an IssueToken; then the retries.
    await recording.ended(7);
    expect(await source.getToken("payments", CHARGE)).toBe(first);

    const calls = recording.calls.slice(0, 7);
    expect(calls.map((call) => [call.method, call.code])).toEqual([
      ["IssueToken", status.OK],
      ["RefreshToken", status.UNAVAILABLE],
      ["IssueToken", status.UNAVAILABLE],
      ["IssueToken", status.UNAVAILABLE],
      ["IssueToken", status.UNAVAILABLE],
      ["IssueToken", status.UNAVAILABLE],
      ["IssueToken", status.UNAVAILABLE],
    ]);
    // From one attempt's end to the next one's start: 20, 40, 80, 80 ms (capped at maxRetryMs).
    const gaps = calls.slice(3).map((call, index) => call.startedAt - (calls[index + 2]?.endedAt ?? Infinity));
    expect(gaps).toHaveLength(4);
    [20, 40, 80, 80].forEach((expected, index) => {
      expect(gaps[index]).toBeGreaterThanOrEqual(expected - 2);
    });
  });

  it("close() stops every timer: no call is made after it", async () => {
    const { source, recording, logger } = closing;
    await source.getToken("payments", CHARGE);
    // Logged right after the next retry was scheduled: close while that timer is pending.
    await logger.next((event) => event.fields["code"] === "ERR_ISSUER_UNREACHABLE" && event.fields["attempt"] === 3);
    await source.close();
    const made = recording.calls.length;

    // The absence of a call cannot be awaited: wait twenty times the longest retry delay.
    await delay(200);
    expect(recording.calls.length).toBe(made);
    expect((await rejection(source.getToken("payments", CHARGE))).code).toBe("ERR_TOKEN_SOURCE_CLOSED");
  });

  it("once the token has expired, rejects with ERR_ISSUER_UNREACHABLE naming the issuer, never the token", async () => {
    const { source, recording } = backoff;
    issuer.clock.advance(LIFETIME_MS * 0.2);
    const error = await rejection(source.getToken("payments", CHARGE));

    expect(error.code).toBe("ERR_ISSUER_UNREACHABLE");
    expect(error.issuerStatus).toBe(status.UNAVAILABLE);
    const address = issuer.running.grpcAddress.replace(/\./g, "\\.");
    expect(error.message).toMatch(new RegExp(`^no token for audience "payments" with scopes payments:charge: the issuer at ${address} is unreachable \\(`));
    expect(error.message).not.toContain(first);
    expect(error.message).not.toContain(first.split(".")[2]);
    // Callers hammering the source get that answer at once, not a call each.
    const before = recording.calls.length;
    const codes = await Promise.all(Array.from({ length: 50 }, () => rejection(source.getToken("payments", CHARGE)).then((e) => e.code)));
    expect(new Set(codes)).toEqual(new Set(["ERR_ISSUER_UNREACHABLE"]));
    expect(recording.calls.length - before).toBeLessThanOrEqual(1);
  });
});

/** Someone who got hold of the refresh token (and the key) spends it first. */
async function thiefRefreshes(issuer: ClockedIssuer, service: RegisteredService, refreshToken: string): Promise<void> {
  const clientAssertion = await mintClientAssertion(service.key, { serviceId: service.id, issuer: issuer.running.issuer, nowSec: Math.floor(issuer.clock.now() / 1000) });
  const thief = recordingIssuerClient(issuer.running.grpcAddress).client;
  await new Promise<issuerV1.TokenResponse>((resolve, reject) => {
    thief.refreshToken({ clientAssertion, refreshToken }, (error, response) => {
      if (error === null) resolve(response);
      else reject(error);
    });
  });
  thief.close();
}
