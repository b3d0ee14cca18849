import { existsSync } from "node:fs";
import { Redis } from "ioredis";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { afterAll, describe, expect, it } from "vitest";
import { HarnessError } from "./harness-error.js";
import { useNats, useRedis } from "./vitest.js";

describe("useRedis and useNats", () => {
  const redis = useRedis();
  const nats = useNats();
  let dirs: string[] = [];

  it("hand the suite running servers", async () => {
    dirs = [redis().dir, nats().storeDir];
    const client = new Redis(redis().url, { maxRetriesPerRequest: 0 });
    try {
      expect(await client.ping()).toBe("PONG");
    } finally {
      client.disconnect();
    }
    const nc = await connect({ servers: nats().url });
    try {
      expect((await (await jetstreamManager(nc)).getAccountInfo()).streams).toBe(0);
    } finally {
      await nc.close();
    }
  });

  // vitest runs afterAll hooks last-registered first, so this one still sees
  // the servers; whether the helpers then removed them is checked below.
  afterAll(() => {
    expect(dirs.every((dir) => existsSync(dir))).toBe(true);
    leftBehind.push(...dirs);
  });
});

const leftBehind: string[] = [];

describe("after the suite", () => {
  it("has stopped the servers and removed their dirs", () => {
    expect(leftBehind).toHaveLength(2);
    for (const dir of leftBehind) expect(existsSync(dir)).toBe(false);
  });
});

describe("the getter", () => {
  const redis = useRedis();
  const early = ((): unknown => {
    try {
      return redis();
    } catch (error) {
      return error;
    }
  })();

  it("refuses to hand out a server before beforeAll has run", () => {
    expect(early).toBeInstanceOf(HarnessError);
    expect(early).toMatchObject({ code: "NOT_STARTED" });
  });
});
