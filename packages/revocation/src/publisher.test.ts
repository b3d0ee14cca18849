import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { revocationV1 } from "@trustmesh/proto";
import { useNats } from "@trustmesh/testing/vitest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createRevocationPublisher,
  type RevocationPublisher,
  type RevocationPublisherOptions,
} from "./create-revocation-publisher.js";
import { ensureRevocationStream, revocationStreamConfig } from "./ensure-revocation-stream.js";
import { RevocationError } from "./errors.js";
import { REVOCATION_STREAM } from "./subjects.js";
import { audit, client, newId } from "./test-support/helpers.js";
import { startSilentServer } from "./test-support/silent-server.js";

const nats = useNats();
let nc: NatsConnection;
let jsm: JetStreamManager;
let publisher: RevocationPublisher;
const nowSec = (): number => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  nc = await client(nats().url);
  jsm = await jetstreamManager(nc);
  publisher = createRevocationPublisher({ nc });
});
afterAll(async () => {
  await publisher.close();
  await nc.close();
});

async function stored(sequence: number): Promise<revocationV1.RevocationEvent> {
  const message = await jsm.streams.getMessage(REVOCATION_STREAM, { seq: sequence });
  if (message === null) throw new Error(`no message at ${sequence}`);
  return revocationV1.RevocationEvent.decode(message.data);
}

function rejection(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe("ensureRevocationStream", () => {
  it("keeps events for the token lifetime plus tolerance, on file, deduplicated for as long", async () => {
    const info = await ensureRevocationStream(jsm, { maxTokenLifetimeSec: 900, toleranceSec: 30 });
    expect(info.config).toMatchObject({
      name: "TRUSTMESH_REVOCATIONS",
      subjects: ["trustmesh.revocations.>"],
      storage: "file",
      max_age: 930 * 1e9,
      duplicate_window: 930 * 1e9,
      max_msgs_per_subject: -1,
      deny_delete: true,
      deny_purge: true,
    });
  });

  it("is idempotent, and brings a stream with another lifetime to this one", async () => {
    await ensureRevocationStream(jsm);
    expect((await ensureRevocationStream(jsm, { maxTokenLifetimeSec: 300 })).config.max_age).toBe(330 * 1e9);
    expect((await ensureRevocationStream(jsm)).config.max_age).toBe(930 * 1e9);
  });

  it.each([
    ["maxTokenLifetimeSec", { maxTokenLifetimeSec: 0 }],
    ["maxTokenLifetimeSec", { maxTokenLifetimeSec: 1.5 }],
    ["toleranceSec", { toleranceSec: -1 }],
    ["replicas", { replicas: 0 }],
  ])("refuses a bad %s with ERR_REVOCATION_OPTIONS", (field, options) => {
    expect(rejection(() => revocationStreamConfig(options))).toMatchObject({ code: "ERR_REVOCATION_OPTIONS", field });
  });
});

describe("createRevocationPublisher", () => {
  it("resolves once the event is stored, with its sequence", async () => {
    const exp = nowSec() + 600;
    const published = await publisher.revokeToken({ jti: "j-stored", sub: "orders", exp, reason: "leaked", actor: "ops@example" });
    const event = await stored(published.sequence);
    expect(event).toMatchObject({
      id: published.eventId,
      target: { $case: "token", value: { jti: "j-stored", sub: "orders", expUnix: exp } },
      reason: "leaked",
      actor: "ops@example",
    });
    expect(published.duplicate).toBe(false);
  });

  it("publishes subject and key revocations that say when their tokens are all gone", async () => {
    const issuedBefore = nowSec();
    const subject = await publisher.revokeSubject({ sub: "orders", issuedBefore, ...audit() });
    expect((await stored(subject.sequence)).target).toEqual({
      $case: "subject",
      value: { sub: "orders", issuedBeforeUnix: issuedBefore, expiresAtUnix: issuedBefore + 900 },
    });
    const key = await publisher.revokeKey({ kid: "kid-1", ...audit() });
    const target = (await stored(key.sequence)).target;
    expect(target?.$case === "signingKey" && target.value.expiresAtUnix).toBeGreaterThanOrEqual(nowSec() + 899);
  });

  it("stores a republished event id once", async () => {
    const input = { jti: newId(), sub: "orders", exp: nowSec() + 60, eventId: newId(), ...audit() };
    const first = await publisher.revokeToken(input);
    const before = (await jsm.streams.info(REVOCATION_STREAM)).state.messages;
    const again = await publisher.revokeToken(input);
    expect(again).toEqual({ eventId: input.eventId, sequence: first.sequence, duplicate: true });
    expect((await jsm.streams.info(REVOCATION_STREAM)).state.messages).toBe(before);
  });

  const valid = { jti: "j", sub: "orders", exp: nowSec() + 60, ...audit() };
  it.each([
    ["jti", { ...valid, jti: "" }],
    ["sub", { ...valid, sub: 5 }],
    ["exp", { ...valid, exp: 1.5 }],
    ["exp", { ...valid, exp: -1 }],
    ["exp", { ...valid, exp: Date.now() }],
    ["exp", { ...valid, exp: nowSec() + 1000 }],
    ["reason", { ...valid, reason: "" }],
    ["reason", { ...valid, reason: "x".repeat(1025) }],
    ["actor", { ...valid, actor: undefined }],
    ["eventId", { ...valid, eventId: "" }],
    ["input", null],
  ])("refuses a token revocation with a bad %s: ERR_REVOCATION_INVALID", async (field, input) => {
    await expect(publisher.revokeToken(input as never)).rejects.toMatchObject({ code: "ERR_REVOCATION_INVALID", field });
  });

  it.each([
    ["issuedBefore", () => publisher.revokeSubject({ sub: "orders", issuedBefore: nowSec() + 5, ...audit() })],
    ["issuedBefore", () => publisher.revokeSubject({ sub: "orders", issuedBefore: undefined as never, ...audit() })],
    ["sub", () => publisher.revokeSubject({ sub: "", issuedBefore: nowSec(), ...audit() })],
    ["kid", () => publisher.revokeKey({ kid: "", ...audit() })],
  ])("refuses a bad %s: ERR_REVOCATION_INVALID", async (field, revoke) => {
    await expect(revoke()).rejects.toMatchObject({ code: "ERR_REVOCATION_INVALID", field });
  });

  it.each<[string, () => RevocationPublisherOptions]>([
    ["nc", () => ({})],
    ["nc", () => ({ nc, servers: "nats://127.0.0.1:1" })],
    ["servers", () => ({ servers: [] })],
    ["publishTimeoutMs", () => ({ nc, publishTimeoutMs: 0 })],
    ["maxTokenLifetimeSec", () => ({ nc, maxTokenLifetimeSec: -5 })],
    ["ensureStream", () => ({ nc, ensureStream: "yes" as never })],
    ["now", () => ({ nc, now: 5 as never })],
    ["logger", () => ({ nc, logger: {} as never })],
  ])("refuses a bad %s option with ERR_REVOCATION_OPTIONS", (field, options) => {
    const error = rejection(() => createRevocationPublisher(options()));
    expect(error).toBeInstanceOf(RevocationError);
    expect(error).toMatchObject({ code: "ERR_REVOCATION_OPTIONS", field });
  });

  it("rejects with ERR_REVOCATION_UNAVAILABLE, at once, when NATS cannot be reached", async () => {
    const unreachable = createRevocationPublisher({ servers: "nats://127.0.0.1:1" });
    const started = Date.now();
    const error: unknown = await unreachable.revokeKey({ kid: "kid-x", ...audit() }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "ERR_REVOCATION_UNAVAILABLE", eventId: expect.any(String) as unknown });
    expect(Date.now() - started).toBeLessThan(500);
    await unreachable.close();
  });

  it("rejects with ERR_REVOCATION_UNAVAILABLE by its deadline when the server never acknowledges", async () => {
    const silent = await startSilentServer();
    const stuck = createRevocationPublisher({ servers: silent.url, publishTimeoutMs: 200 });
    try {
      const started = Date.now();
      const error: unknown = await stuck.revokeKey({ kid: "kid-x", ...audit() }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "ERR_REVOCATION_UNAVAILABLE", eventId: expect.any(String) as unknown });
      expect(Date.now() - started).toBeGreaterThanOrEqual(190);
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      await stuck.close();
      await silent.close();
    }
  });

  it("rejects with ERR_REVOCATION_CLOSED after close()", async () => {
    const closing = createRevocationPublisher({ nc });
    await closing.close();
    await expect(closing.revokeKey({ kid: "kid-x", ...audit() })).rejects.toMatchObject({ code: "ERR_REVOCATION_CLOSED" });
    expect(nc.isClosed()).toBe(false);
  });
});
