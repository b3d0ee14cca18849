/**
 * The server goes away and comes back (same port, same store) under running publishers and
 * subscribers. Serial by nature: every test here stops the one server of this file.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { generateTestKey, jwksOf, mintTestToken, TEST_AUDIENCE, TEST_ISSUER } from "@trustmesh/testing";
import { useNats } from "@trustmesh/testing/vitest";
import { createVerifier } from "@trustmesh/verifier";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createRevocationPublisher, type RevocationPublisher } from "./create-revocation-publisher.js";
import {
  createRevocationSubscriber,
  type RevocationSubscriber,
  type RevocationSubscriberOptions,
} from "./create-revocation-subscriber.js";
import { ensureRevocationStream } from "./ensure-revocation-stream.js";
import { REVOCATION_STREAM } from "./subjects.js";
import { audit, client, collectAcks, nextStatus, tokenQuery, untilStatus, within } from "./test-support/helpers.js";

const nats = useNats();
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
  if (!nats().running) await nats().restart();
});

async function connection(): Promise<NatsConnection> {
  const nc = await client(nats().url);
  closers.push(() => nc.close());
  return nc;
}

/** A connection to a server that has the stream, as it has once an issuer has started. */
async function connectionWithStream(): Promise<NatsConnection> {
  const nc = await connection();
  await ensureRevocationStream(await jetstreamManager(nc));
  return nc;
}

function publisherOn(nc: NatsConnection): RevocationPublisher {
  const publisher = createRevocationPublisher({ nc });
  closers.push(() => publisher.close());
  return publisher;
}

function subscribe(options: Partial<RevocationSubscriberOptions> = {}): RevocationSubscriber {
  const target = options.nc === undefined ? { servers: nats().url } : {};
  const subscriber = createRevocationSubscriber({ ...target, serviceId: "payments", ...options });
  closers.push(() => subscriber.close());
  return subscriber;
}

async function revoke(publisher: RevocationPublisher, token: ReturnType<typeof tokenQuery>): Promise<number> {
  return (await publisher.revokeToken({ jti: token.jti, sub: token.sub, exp: token.exp, ...audit() })).sequence;
}

/** Stops the server and waits until `watched` has noticed. */
async function stopNats(...watched: NatsConnection[]): Promise<void> {
  const noticed = watched.map((nc) => nextStatus(nc, "disconnect"));
  await nats().stop();
  await Promise.all(noticed);
}

async function restartNats(...watched: NatsConnection[]): Promise<void> {
  const noticed = watched.map((nc) => nextStatus(nc, "reconnect"));
  await nats().restart();
  await Promise.all(noticed);
}

describe("revocation across NATS outages", () => {
  it("a subscriber started before the stream exists becomes ready once it does", async () => {
    const early = subscribe();
    const token = tokenQuery();
    await revoke(publisherOn(await connection()), token);
    await within(early.ready(), "replay");
    expect(early.check(token)).toBe("revoked-jti");
  });

  it("a subscriber resumes after a server restart: nothing lost from before or after, nothing applied twice", async () => {
    const nc = await connectionWithStream();
    const publisher = publisherOn(nc);
    const acks = await collectAcks(nc);
    const running = subscribe({ instanceId: "running" });
    await within(running.ready(), "replay");
    const before = [tokenQuery(), tokenQuery()];
    for (const token of before) await revoke(publisher, token);
    await untilStatus(running, before[1] ?? tokenQuery(), "revoked-jti");

    await stopNats(nc);
    const late = subscribe({ instanceId: "late" });
    await restartNats(nc);
    // Published the moment the server is back: likely before `running` has reconnected.
    const after = tokenQuery();
    const sequence = await revoke(publisher, after);

    await untilStatus(running, after, "revoked-jti");
    expect(before.map((token) => running.check(token))).toEqual(["revoked-jti", "revoked-jti"]);
    expect(running.lastAppliedSequence).toBe(sequence);
    await within(late.ready(), "replay after the restart");
    expect([...before, after].map((token) => late.check(token))).toEqual(["revoked-jti", "revoked-jti", "revoked-jti"]);

    await acks.until((all) => all.some((ack) => ack.instanceId === "running" && ack.streamSequence === sequence));
    const applied = acks.acks.filter((ack) => ack.instanceId === "running").map((ack) => ack.streamSequence);
    expect(new Set(applied).size).toBe(applied.length);
  });

  it("a revocation while NATS is down fails at once with ERR_REVOCATION_UNAVAILABLE, and a retry stores it once", async () => {
    const nc = await connectionWithStream();
    const publisher = publisherOn(nc);
    const token = tokenQuery();
    await revoke(publisher, tokenQuery());
    await stopNats(nc);

    const started = Date.now();
    const input = { jti: token.jti, sub: token.sub, exp: token.exp, ...audit() };
    const error: unknown = await publisher.revokeToken(input).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(500);
    expect(error).toMatchObject({ code: "ERR_REVOCATION_UNAVAILABLE", eventId: expect.any(String) as unknown });

    await restartNats(nc);
    const eventId = (error as { eventId: string }).eventId;
    const stored = await publisher.revokeToken({ ...input, eventId });
    expect(stored).toMatchObject({ eventId, duplicate: false });
    expect((await publisher.revokeToken({ ...input, eventId })).duplicate).toBe(true);
  });

  it("fails closed once stale, answers again after the restart; 'allow' keeps answering from its list", async () => {
    let clock = Date.now();
    const nc = await connectionWithStream();
    const publisher = publisherOn(nc);
    const options = { nc, now: () => clock, maxStalenessMs: 1_000, contactCheckIntervalMs: 100 };
    const strict = subscribe(options);
    const lenient = subscribe({ ...options, stalePolicy: "allow" });
    await within(Promise.all([strict.ready(), lenient.ready()]), "replay");
    const revoked = tokenQuery();
    const active = tokenQuery();
    await revoke(publisher, revoked);
    await Promise.all([untilStatus(strict, revoked, "revoked-jti"), untilStatus(lenient, revoked, "revoked-jti")]);

    const key = await generateTestKey();
    const verifier = createVerifier({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwks: jwksOf(key), revocation: strict, now: () => clock });
    const token = await mintTestToken(key, { nowSec: Math.floor(clock / 1000) });
    await verifier.verify(token);

    let changes = 0;
    strict.onChange(() => changes++);
    await stopNats(nc);
    clock += 1_000;
    expect(strict.check(revoked)).toBe("revoked-jti");
    clock += 1;
    expect([strict.state, lenient.state]).toEqual(["stale", "stale"]);
    // Listeners (open streams, health) hear of going stale although no event arrived.
    await vi.waitFor(() => {
      expect(changes).toBe(1);
    }, { timeout: 5_000, interval: 20 });
    expect(strict.stalenessMs).toBeGreaterThan(1_000);
    expect([strict.check(revoked), strict.check(active)]).toEqual(["unavailable", "unavailable"]);
    expect([lenient.check(revoked), lenient.check(active)]).toEqual(["revoked-jti", "active"]);
    await expect(verifier.verify(token)).rejects.toMatchObject({ code: "ERR_REVOCATION_UNAVAILABLE" });

    await restartNats(nc);
    await vi.waitFor(() => {
      expect(strict.state).toBe("fresh");
    }, { timeout: 10_000, interval: 20 });
    expect([strict.check(revoked), strict.check(active)]).toEqual(["revoked-jti", "active"]);
    expect(strict.lastContactMs).toBe(clock);
    await expect(verifier.verify(token)).resolves.toMatchObject({ aud: TEST_AUDIENCE });
  });

  it("a recreated stream is replayed from its start, and what was revoked before stays revoked", async () => {
    const nc = await connectionWithStream();
    const publisher = publisherOn(nc);
    const subscriber = subscribe({ contactCheckIntervalMs: 100 });
    await within(subscriber.ready(), "replay");
    const old = tokenQuery();
    await revoke(publisher, old);
    await untilStatus(subscriber, old, "revoked-jti");

    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(REVOCATION_STREAM);
    await ensureRevocationStream(jsm);
    const fresh = tokenQuery();
    expect(await revoke(publisher, fresh)).toBe(1);

    await untilStatus(subscriber, fresh, "revoked-jti");
    expect(subscriber.check(old)).toBe("revoked-jti");
    expect(subscriber.lastAppliedSequence).toBe(1);
  });
});
