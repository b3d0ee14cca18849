import type { revocationV1 } from "@trustmesh/proto";
import { describe, expect, it } from "vitest";
import { everyoneApplied, tally, tallyText } from "./ack-tally.js";
import type { InstancePresence } from "./presence-probe.js";

const REVOKED_AT = 1_000_000;

function ack(instanceId: string, eventId: string, latencyMs: number, serviceId = "payments"): revocationV1.RevocationAck {
  return { eventId, streamSequence: 7, serviceId, instanceId, appliedAtUnixMs: REVOKED_AT + latencyMs };
}

function present(...instanceIds: string[]): Map<string, InstancePresence> {
  return new Map(
    instanceIds.map((instanceId) => [
      `payments/${instanceId}`,
      { serviceId: "payments", instanceId, state: "fresh", lastAppliedSequence: 6, lastContactUnixMs: REVOKED_AT, stalenessMs: 5 },
    ]),
  );
}

describe("tally", () => {
  it.each([
    ["every instance that answered applied it", [ack("a", "e1", 3), ack("b", "e1", 4)], present("a", "b"), "applied by 2/2 instances, slowest 4 ms", true],
    ["one that answered did not apply it in time", [ack("a", "e1", 3)], present("a", "b"), "applied by 1/2 instances, slowest 3 ms; not within 2000 ms: payments/b", false],
    ["an instance acked another event without answering: it counts as listening", [ack("a", "e1", 3), ack("c", "e0", 1)], present("a"), "applied by 1/2 instances, slowest 3 ms; not within 2000 ms: payments/c", false],
    ["a repeated ack counts once, at its first time", [ack("a", "e1", 3), ack("a", "e1", 9)], present("a"), "applied by 1/1 instance, slowest 3 ms", true],
    ["nobody answered the presence request: the total is unknown", [ack("a", "e1", 3), ack("b", "e1", 4)], present(), "applied by 2 instances (slowest 4 ms); the total is unknown: no instance answered the presence request", false],
    ["nobody answered, nobody applied", [], present(), "applied by no instance within 2000 ms, and none answered the presence request", false],
    ["some answered, nobody applied", [], present("a"), "applied by 0/1 instance; not within 2000 ms: payments/a", false],
  ] as const)("%s", (_, acks, presence, text, done) => {
    const result = tally("e1", acks, presence, REVOKED_AT);
    expect(tallyText(result, 2000)).toBe(text);
    expect(everyoneApplied(result)).toBe(done);
  });

  it("lists who applied it with their latency, by service and instance id", () => {
    const result = tally("e1", [ack("b", "e1", 4), ack("a", "e1", 3, "orders")], present("b"), REVOKED_AT);
    expect(result.applied).toEqual([
      { serviceId: "orders", instanceId: "a", latencyMs: 3 },
      { serviceId: "payments", instanceId: "b", latencyMs: 4 },
    ]);
    expect(result).toMatchObject({ listening: 2, missing: [], slowestMs: 4 });
  });
});
