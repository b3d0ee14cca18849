import { useNats } from "@trustmesh/testing/vitest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectOneLineError, startTestIssuer, trustctl, type TestIssuer } from "./harness.js";

const nats = useNats();
let mesh: TestIssuer;

beforeAll(async () => {
  mesh = await startTestIssuer({ TRUSTMESH_NATS_URL: nats().url });
  // Once the issuer has its stream, NATS goes away: every revocation must now fail loudly.
  await nats().stop();
});
afterAll(async () => {
  await mesh.close();
});

const exp = (): string => String(Math.floor(Date.now() / 1000) + 600);

describe.concurrent("revocation while NATS is down", () => {
  it("revoke exits 3 with the issuer's UNAVAILABLE, which says that nothing was revoked", async () => {
    const withoutNats = Object.fromEntries(Object.entries(mesh.env).filter(([name]) => name !== "TRUSTMESH_NATS_URL"));
    const result = await trustctl(["revoke", "token", "jti-while-down", "--sub", "orders", "--exp", exp(), "--reason", "test"], withoutNats);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe("");
    expect(expectOneLineError(result)).toMatch(/^trustctl: UNAVAILABLE: .*revocation.*NOT applied/);
  });

  it("with --nats, trustctl also says it could not follow the acks, and still lets the issuer refuse", async () => {
    const result = await trustctl(["revoke", "token", "jti-while-down-2", "--sub", "orders", "--exp", exp(), "--reason", "test", "--json"], mesh.env);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe("");
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^trustctl: revoking without following the acks: cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+: /);
    expect(lines[1]).toMatch(/^trustctl: UNAVAILABLE: .*revocation.*NOT applied/);
  });

  it.each([["watch"], ["status"]])("%s exits 3 with one line naming NATS", async (command) => {
    const result = await trustctl([command], mesh.env);
    expect(result.code).toBe(3);
    expect(expectOneLineError(result)).toMatch(/^trustctl: cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+: /);
  });
});
