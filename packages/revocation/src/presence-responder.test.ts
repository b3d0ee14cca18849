import { createInbox, type NatsConnection } from "@nats-io/transport-node";
import { useNats } from "@trustmesh/testing/vitest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRevocationPublisher, type RevocationPublisher } from "./create-revocation-publisher.js";
import { createRevocationSubscriber } from "./create-revocation-subscriber.js";
import { REVOCATION_PRESENCE_SUBJECT, type RevocationPresence } from "./presence-responder.js";
import { audit, client, within } from "./test-support/helpers.js";

const nats = useNats();
let nc: NatsConnection;
let publisher: RevocationPublisher;

beforeAll(async () => {
  nc = await client(nats().url);
  publisher = createRevocationPublisher({ nc });
  await publisher.revokeKey({ kid: "kid-setup", ...audit() });
});
afterAll(async () => {
  await publisher.close();
  await nc.close();
});

/** Every reply to one presence request: `count` of them, and none more within 100 ms after. */
async function probe(count: number): Promise<RevocationPresence[]> {
  const inbox = createInbox();
  const replies: RevocationPresence[] = [];
  const subscription = nc.subscribe(inbox);
  await nc.flush();
  nc.publish(REVOCATION_PRESENCE_SUBJECT, new Uint8Array(), { reply: inbox });
  const gathered = (async () => {
    for await (const message of subscription) replies.push(message.json<RevocationPresence>());
  })();
  await within(
    (async () => {
      while (replies.length < count) await new Promise((resolve) => setTimeout(resolve, 5));
    })(),
    `${count} presence replies`,
  );
  await new Promise((resolve) => setTimeout(resolve, 100));
  subscription.unsubscribe();
  await gathered;
  return replies.sort((a, b) => a.instanceId.localeCompare(b.instanceId));
}

describe("presence", () => {
  it("has every subscriber answer with its ids, state, last applied sequence and staleness, and stop once closed", async () => {
    const subscribers = ["a", "b"].map((instanceId) => createRevocationSubscriber({ servers: nats().url, serviceId: "payments", instanceId }));
    await within(Promise.all(subscribers.map((subscriber) => subscriber.ready())), "replay");
    const { sequence } = await publisher.revokeKey({ kid: "kid-presence", ...audit() });
    await within(
      (async () => {
        while (subscribers.some((subscriber) => subscriber.lastAppliedSequence < sequence)) await new Promise((resolve) => setTimeout(resolve, 5));
      })(),
      "the event applied",
    );

    const replies = await probe(2);
    expect(replies).toMatchObject([
      { serviceId: "payments", instanceId: "a", state: "fresh", lastAppliedSequence: sequence },
      { serviceId: "payments", instanceId: "b", state: "fresh", lastAppliedSequence: sequence },
    ]);
    for (const reply of replies) {
      expect(reply.stalenessMs).toBeGreaterThanOrEqual(0);
      expect(reply.lastContactUnixMs).toBeLessThanOrEqual(Date.now());
    }

    await subscribers[0]?.close();
    expect((await probe(1)).map((reply) => reply.instanceId)).toEqual(["b"]);
    await subscribers[1]?.close();
  });
});
