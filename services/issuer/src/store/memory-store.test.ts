import { describe, expect, it } from "vitest";
import { createMemoryStore } from "./memory-store.js";
import { RETENTION_SLACK_SEC } from "./limits.js";
import { describeStoreContract } from "./store-contract.js";
import { START_SEC } from "./store-contract-context.js";

describeStoreContract("memory", (now) => {
  const store = createMemoryStore({ now });
  return { store, replica: () => store };
});

describe("createMemoryStore", () => {
  it.each<[string, unknown]>([
    ["options that are not an object", "fast"],
    ["a clock that is not a function", { now: 1 }],
  ])("refuses %s with ERR_STORE_OPTIONS", (_, options) => {
    expect(() => createMemoryStore(options as object)).toThrow(expect.objectContaining({ code: "ERR_STORE_OPTIONS" }));
  });

  it("forgets a jti once its retention is over, so memory stays bounded", async () => {
    let nowMs = START_SEC * 1000;
    const store = createMemoryStore({ now: () => nowMs });
    expect(await store.consumeAssertionJti("orders", "j", START_SEC + 60)).toBe(true);
    nowMs += (60 + RETENTION_SLACK_SEC) * 1000;
    expect(await store.consumeAssertionJti("orders", "j", START_SEC + 60)).toBe(true);
    await store.close();
  });
});
