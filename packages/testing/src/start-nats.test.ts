import { existsSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { jetstream, jetstreamManager, DeliverPolicy } from "@nats-io/jetstream";
import { connect, type NatsConnection, type Status } from "@nats-io/transport-node";
import { afterEach, describe, expect, it } from "vitest";
import { startNats, type NatsServer } from "./start-nats.js";

const MACHINE_NATS_PORT = 4222;
const STATUS_TIMEOUT_MS = 10_000;

const servers: NatsServer[] = [];
const connections: NatsConnection[] = [];
async function start(): Promise<NatsServer> {
  const server = await startNats();
  servers.push(server);
  return server;
}
async function client(server: NatsServer, reconnect = false): Promise<NatsConnection> {
  const nc = await connect({
    servers: server.url,
    reconnect,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 50,
  });
  connections.push(nc);
  return nc;
}
afterEach(async () => {
  await Promise.all(connections.splice(0).map((nc) => nc.close()));
  await Promise.all(servers.splice(0).map((server) => server.dispose()));
});

/** Subscribe before causing the event: the status iterator queues what happens after it is created. */
function nextStatus(nc: NatsConnection, type: Status["type"]): Promise<Status> {
  const statuses = nc.status()[Symbol.asyncIterator]();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`no "${type}" status within ${STATUS_TIMEOUT_MS} ms`));
    }, STATUS_TIMEOUT_MS);
  });
  const seen = (async () => {
    for (let next = await statuses.next(); next.done !== true; next = await statuses.next()) {
      if (next.value.type === type) return next.value;
    }
    throw new Error(`status iterator ended before "${type}"`);
  })();
  return Promise.race([seen, timeout]).finally(() => {
    clearTimeout(timer);
    void statuses.return?.();
  });
}

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const squatter = createServer();
    squatter.once("error", reject);
    squatter.listen({ host: "127.0.0.1", port, exclusive: true }, () => {
      resolve(squatter);
    });
  });
}

async function addStream(nc: NatsConnection, name: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name, subjects: [`${name}.>`], max_age: 60 * 1_000_000_000 });
}

describe("startNats", () => {
  it("starts with JetStream on a port of its own", async () => {
    const nats = await start();
    expect(nats.port).not.toBe(MACHINE_NATS_PORT);
    expect(nats.url).toBe(`nats://127.0.0.1:${nats.port}`);
    const nc = await client(nats);
    const info = await (await jetstreamManager(nc)).getAccountInfo();
    expect(info.streams).toBe(0);
  });

  it("stores a message in a stream and reads it back", async () => {
    const nats = await start();
    const nc = await client(nats);
    await addStream(nc, "HARNESS");
    const js = jetstream(nc);
    const ack = await js.publish("HARNESS.one", "hello", { msgID: "m-1" });
    expect(ack.seq).toBe(1);
    expect((await js.publish("HARNESS.one", "hello", { msgID: "m-1" })).duplicate).toBe(true);

    const consumer = await js.consumers.get("HARNESS", {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: 1,
    });
    const message = await consumer.next({ expires: 5_000 });
    expect(message?.string()).toBe("hello");
    expect(message?.seq).toBe(1);
  });

  it("keeps the store across stop() and restart() on the same port", async () => {
    const nats = await start();
    const { port, storeDir } = nats;
    let nc = await client(nats);
    await addStream(nc, "KEPT");
    await jetstream(nc).publish("KEPT.a", "before");
    await nc.close();

    await nats.stop();
    expect(nats.running).toBe(false);
    expect(existsSync(storeDir)).toBe(true);
    await nats.stop();
    await nats.restart();
    expect(nats.running).toBe(true);
    expect(nats.port).toBe(port);

    nc = await client(nats);
    const jsm = await jetstreamManager(nc);
    expect((await jsm.streams.info("KEPT")).state.messages).toBe(1);
    expect((await jsm.streams.getMessage("KEPT", { seq: 1 }))?.string()).toBe("before");
  });

  it("lets a client with reconnect enabled find the restarted server by itself", async () => {
    const nats = await start();
    const nc = await client(nats, true);
    await addStream(nc, "LIVE");
    const js = jetstream(nc);
    await js.publish("LIVE.a", "1");

    const disconnected = nextStatus(nc, "disconnect");
    await nats.stop();
    await disconnected;
    const reconnected = nextStatus(nc, "reconnect");
    await nats.restart();
    await reconnected;

    expect((await js.publish("LIVE.a", "2")).seq).toBe(2);
  });

  it("stop() called while a restart() is starting stops the new process", async () => {
    const nats = await start();
    const restarting = nats.restart();
    await nats.stop();
    await restarting;
    expect(nats.running).toBe(false);
    const squatter = await listen(nats.port);
    squatter.close();
  });

  it("dispose() removes the store dir and refuses restart()", async () => {
    const nats = await start();
    await nats.dispose();
    await nats.dispose();
    expect(nats.running).toBe(false);
    expect(existsSync(nats.storeDir)).toBe(false);
    await expect(nats.restart()).rejects.toMatchObject({ code: "DISPOSED" });
  });

  it("reports PORT_UNAVAILABLE when its port was taken while it was stopped", async () => {
    const nats = await start();
    await nats.stop();
    const squatter = await listen(nats.port);
    try {
      await expect(nats.restart()).rejects.toMatchObject({
        code: "PORT_UNAVAILABLE",
        message: expect.stringContaining("address already in use") as unknown,
      });
    } finally {
      squatter.close();
    }
    await nats.restart();
    expect(nats.running).toBe(true);
  });
});
