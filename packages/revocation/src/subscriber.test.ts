import type { NatsConnection } from "@nats-io/transport-node";
import { useNats } from "@trustmesh/testing/vitest";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createRevocationPublisher, type RevocationPublisher } from "./create-revocation-publisher.js";
import {
  createRevocationSubscriber,
  type RevocationSubscriber,
  type RevocationSubscriberOptions,
} from "./create-revocation-subscriber.js";
import { RevocationError } from "./errors.js";
import { audit, client, collectAcks, newId, tokenQuery, untilStatus, within } from "./test-support/helpers.js";

const nats = useNats();
let nc: NatsConnection;
let publisher: RevocationPublisher;
const subscribers: RevocationSubscriber[] = [];
const nowSec = (): number => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  nc = await client(nats().url);
  publisher = createRevocationPublisher({ nc });
  // The stream exists before any subscriber, as it does once an issuer has started.
  await publisher.revokeKey({ kid: "kid-setup", ...audit() });
});
afterEach(async () => {
  await Promise.all(subscribers.splice(0).map((subscriber) => subscriber.close()));
});
afterAll(async () => {
  await publisher.close();
  await nc.close();
});

function subscribe(options: Partial<RevocationSubscriberOptions> = {}): RevocationSubscriber {
  const subscriber = createRevocationSubscriber({ servers: nats().url, serviceId: "payments", ...options });
  subscribers.push(subscriber);
  return subscriber;
}

async function revokeToken(token: ReturnType<typeof tokenQuery>): Promise<number> {
  return (await publisher.revokeToken({ jti: token.jti, sub: token.sub, exp: token.exp, ...audit() })).sequence;
}

describe("createRevocationSubscriber", () => {
  it("has every one of three subscribers reject a token once it is revoked", async () => {
    const all = [subscribe(), subscribe(), subscribe()];
    await within(Promise.all(all.map((s) => s.ready())), "replay");
    const token = tokenQuery();
    expect(all.map((s) => s.check(token))).toEqual(["active", "active", "active"]);

    const changed = all.map((s) => within(new Promise<void>((resolve) => s.onChange(resolve)), "onChange"));
    const sequence = await revokeToken(token);
    await Promise.all(changed);
    expect(all.map((s) => s.check(token))).toEqual(["revoked-jti", "revoked-jti", "revoked-jti"]);
    expect(all.map((s) => s.lastAppliedSequence)).toEqual([sequence, sequence, sequence]);
  });

  it("has a subscriber started after the revocation reject it before it reports ready", async () => {
    const token = tokenQuery();
    const sequence = await revokeToken(token);
    const late = subscribe();
    expect(late.state).toBe("replaying");
    expect(late.check(token)).toBe("unavailable");
    await within(late.ready(), "replay");
    expect(late.lastAppliedSequence).toBeGreaterThanOrEqual(sequence);
    expect(late.state).toBe("fresh");
    expect(late.check(token)).toBe("revoked-jti");
    expect(late.check(tokenQuery())).toBe("active");
  });

  it("revokes a subject's tokens issued before the cut-off, not later ones", async () => {
    const subscriber = subscribe();
    await within(subscriber.ready(), "replay");
    const sub = `svc-${newId()}`;
    const before = tokenQuery({ sub, iat: nowSec() - 60 });
    const after = tokenQuery({ sub, iat: nowSec() + 1 });
    await publisher.revokeSubject({ sub, issuedBefore: nowSec(), ...audit() });
    await untilStatus(subscriber, before, "revoked-subject");
    expect(subscriber.check(after)).toBe("active");
  });

  it("revokes every token signed by a revoked key", async () => {
    const subscriber = subscribe();
    await within(subscriber.ready(), "replay");
    const kid = `kid-${newId()}`;
    await publisher.revokeKey({ kid, ...audit() });
    await untilStatus(subscriber, tokenQuery({ kid }), "revoked-kid");
    expect(subscriber.check(tokenQuery({ kid: `kid-${newId()}` }))).toBe("active");
  });

  it("acknowledges each applied event with its service, instance and sequence", async () => {
    const acks = await collectAcks(nc);
    const first = subscribe({ serviceId: "payments.eu", instanceId: "pod-1" });
    const second = subscribe({ serviceId: "payments.eu", instanceId: "pod-2" });
    await within(Promise.all([first.ready(), second.ready()]), "replay");
    const revokedAt = Date.now();
    const published = await publisher.revokeToken({ jti: newId(), sub: "orders", exp: nowSec() + 60, ...audit() });

    const mine = (): typeof acks.acks => acks.acks.filter((ack) => ack.eventId === published.eventId);
    await acks.until(() => mine().length === 2);
    expect(mine().map((ack) => ack.instanceId).sort()).toEqual(["pod-1", "pod-2"]);
    for (const ack of mine()) {
      expect(ack).toMatchObject({ serviceId: "payments.eu", streamSequence: published.sequence });
      expect(ack.appliedAtUnixMs).toBeGreaterThanOrEqual(revokedAt);
    }
  });

  it("stores and applies a duplicate publish of one event id once", async () => {
    const acks = await collectAcks(nc);
    const subscriber = subscribe({ instanceId: "dedupe" });
    await within(subscriber.ready(), "replay");
    const input = { jti: newId(), sub: "orders", exp: nowSec() + 60, eventId: newId(), ...audit() };
    const first = await publisher.revokeToken(input);
    const again = await publisher.revokeToken(input);
    // A later event proves the subscriber is past the duplicate, had one been stored.
    const marker = await publisher.revokeKey({ kid: `kid-${newId()}`, ...audit() });
    await acks.until((all) => all.some((ack) => ack.eventId === marker.eventId && ack.instanceId === "dedupe"));
    expect(again).toMatchObject({ duplicate: true, sequence: first.sequence });
    expect(acks.acks.filter((ack) => ack.eventId === input.eventId && ack.instanceId === "dedupe")).toHaveLength(1);
  });

  it("rejects ready() with ERR_REVOCATION_CLOSED when closed before its replay finished", async () => {
    const nowhere = subscribe({ servers: "nats://127.0.0.1:1" });
    const ready = nowhere.ready();
    await nowhere.close();
    await expect(ready).rejects.toMatchObject({ code: "ERR_REVOCATION_CLOSED" });
    expect(nowhere.state).toBe("closed");
    expect(nowhere.check(tokenQuery())).toBe("unavailable");
  });

  it.each<[string, Partial<RevocationSubscriberOptions>]>([
    ["serviceId", { serviceId: undefined }],
    ["serviceId", { serviceId: "" }],
    ["serviceId", { serviceId: "pay ments" }],
    ["serviceId", { serviceId: "pay*" }],
    ["instanceId", { instanceId: "pod>" }],
    ["maxStalenessMs", { maxStalenessMs: 0 }],
    ["stalePolicy", { stalePolicy: "open" as never }],
    ["contactCheckIntervalMs", { maxStalenessMs: 1_000, contactCheckIntervalMs: 600 }],
    ["toleranceSec", { toleranceSec: -1 }],
    ["now", { now: "yesterday" as never }],
    ["logger", { logger: { info: () => undefined } as never }],
    ["servers", { servers: [] }],
    ["nc", { servers: undefined }],
  ])("refuses a bad %s option with ERR_REVOCATION_OPTIONS", (field, overrides) => {
    let error: unknown;
    try {
      subscribe(overrides);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(RevocationError);
    expect(error).toMatchObject({ code: "ERR_REVOCATION_OPTIONS", field });
  });
});
