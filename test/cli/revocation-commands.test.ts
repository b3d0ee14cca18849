import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { createRevocationSubscriber, type RevocationSubscriber } from "@trustmesh/revocation";
import { useNats } from "@trustmesh/testing/vitest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestIssuer, startTrustctl, trustctl, type CliResult, type TestIssuer } from "./harness.js";

/** Three listening instances of two services, each with its own denylist, in this process. */
const INSTANCES = [
  ["orders", "orders-1"],
  ["payments", "payments-1"],
  ["payments", "payments-2"],
] as const;

interface RevokeJson {
  kind: string;
  eventId: string;
  sequence: number;
  listening: number | null;
  applied: number | null;
  instances: { serviceId: string; instanceId: string; latencyMs: number }[] | null;
  missing: { serviceId: string; instanceId: string }[] | null;
}

const nats = useNats();
let mesh: TestIssuer;
const subscribers: RevocationSubscriber[] = [];
/** A token the issuer minted for orders → payments, and its claims. */
let token: string;
let claims: { jti: string; sub: string; iat: number; exp: number };
let activeKid: string;

beforeAll(async () => {
  mesh = await startTestIssuer({ TRUSTMESH_NATS_URL: nats().url });
  for (const [serviceId, instanceId] of INSTANCES) subscribers.push(createRevocationSubscriber({ servers: nats().url, serviceId, instanceId }));
  const keyFile = join(mesh.dir, "orders.key.json");
  const registered = await Promise.all([
    trustctl(["service", "register", "orders", "--tenant", "acme", "--allow", "payments=payments:charge", "--key-out", keyFile], mesh.env),
    trustctl(["service", "register", "ledger", "--tenant", "acme", "--allow", "payments", "--key-out", join(mesh.dir, "ledger.key.json")], mesh.env),
  ]);
  for (const result of registered) expect(result, result.stderr).toMatchObject({ code: 0 });
  const minted = await trustctl(["token", "mint", "--as", "orders", "--key", keyFile, "--audience", "payments", "--scope", "payments:charge"], mesh.env);
  expect(minted, minted.stderr).toMatchObject({ code: 0 });
  token = minted.stdout.trim();
  const [header, payload] = token.split(".").slice(0, 2).map((part) => JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as Record<string, unknown>);
  claims = payload as typeof claims;
  activeKid = String(header?.["kid"]);
  await Promise.all(subscribers.map((subscriber) => subscriber.ready()));
});
afterAll(async () => {
  await Promise.all(subscribers.map((subscriber) => subscriber.close()));
  await mesh.close();
});

const newJti = (): string => randomBytes(16).toString("base64url");
const inTenMinutes = (): number => Math.floor(Date.now() / 1000) + 600;
const query = (changes: Partial<{ jti: string; sub: string; iat: number; exp: number; kid: string }> = {}) => ({ jti: newJti(), sub: "orders", iat: Math.floor(Date.now() / 1000) - 60, exp: inTenMinutes(), kid: "kid-unrelated", ...changes });

function expectAppliedByAll(result: CliResult): void {
  expect(result, result.stderr).toMatchObject({ code: 0, stderr: "" });
  const lines = result.stdout.trimEnd().split("\n");
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(/\(event \S+, sequence \d+\)$/);
  expect(lines[1]).toMatch(/^applied by 3\/3 instances, slowest -?\d+ ms$/);
}

describe.concurrent("trustctl revoke, followed over NATS", () => {
  it("revoke token <jti>: every instance applies it and trustctl says so", async () => {
    const jti = `j${newJti()}`; // a leading "-" would read as an option
    const result = await trustctl(["revoke", "token", jti, "--sub", "orders", "--exp", String(inTenMinutes()), "--reason", "leaked in a log"], mesh.env);
    expectAppliedByAll(result);
    expect(result.stdout).toMatch(new RegExp(`^revoked token ${jti} \\(event `));
    // The ack is published after the denylist has the entry: every instance rejects it by now.
    expect(subscribers.map((subscriber) => subscriber.check(query({ jti })))).toEqual(["revoked-jti", "revoked-jti", "revoked-jti"]);
  });

  it("revoke token --token - --json: the token from stdin; eventId, sequence and every instance with its latency", async () => {
    const result = await trustctl(["revoke", "token", "--token", "-", "--reason", "leaked", "--json"], mesh.env, token);
    expect(result, result.stderr).toMatchObject({ code: 0, stderr: "" });
    const json = JSON.parse(result.stdout) as RevokeJson;
    expect(json).toMatchObject({ kind: "token", listening: 3, applied: 3, missing: [] });
    expect(json.eventId).not.toBe("");
    expect(json.sequence).toBeGreaterThan(0);
    expect(json.instances?.map(({ serviceId, instanceId }) => [serviceId, instanceId])).toEqual(INSTANCES.map(([serviceId, instanceId]) => [serviceId, instanceId]));
    for (const instance of json.instances ?? []) expect(instance.latencyMs).toBeTypeOf("number");
    expect(result.stdout).not.toContain(token);
    expect(subscribers.map((subscriber) => subscriber.check({ ...claims, kid: activeKid }))).toEqual(["revoked-jti", "revoked-jti", "revoked-jti"]);
  });

  it("revoke service <id>: disabled at the issuer, and its tokens rejected by every instance", async () => {
    const result = await trustctl(["revoke", "service", "ledger", "--reason", "compromised"], mesh.env);
    expectAppliedByAll(result);
    expect(result.stdout).toMatch(/^revoked service ledger: disabled, and its tokens issued before \S+ no longer verify/);
    expect((await mesh.issuer.store.getService("ledger"))?.status).toBe("disabled");
    expect(subscribers.map((subscriber) => subscriber.check(query({ sub: "ledger" })))).toEqual(["revoked-subject", "revoked-subject", "revoked-subject"]);
  });

  it("without NATS to follow, revokes all the same and says how to see it applied", async () => {
    const withoutNats = Object.fromEntries(Object.entries(mesh.env).filter(([name]) => name !== "TRUSTMESH_NATS_URL"));
    const jti = `j${newJti()}`; // a leading "-" would read as an option
    const result = await trustctl(["revoke", "token", jti, "--sub", "orders", "--exp", String(inTenMinutes()), "--reason", "test"], withoutNats);
    expect(result, result.stderr).toMatchObject({ code: 0 });
    expect(result.stdout).toMatch(new RegExp(`^revoked token ${jti} \\(event \\S+, sequence \\d+\\)\\n$`));
    expect(result.stderr).toContain("give --nats <url> (or TRUSTMESH_NATS_URL) to see the instances apply it");
  });
});

describe("trustctl watch, revoke key and status", () => {
  it("watch --json --acks prints the event a revoke published, then each instance's ack, and ends cleanly on SIGTERM", async () => {
    const watch = startTrustctl(["watch", "--json", "--acks"], mesh.env);
    try {
      await watch.stderrMatch(/watching TRUSTMESH_REVOCATIONS on nats:\/\/\S+ from sequence \d+, with acks; Ctrl-C ends/);
      const jti = `j${newJti()}`; // a leading "-" would read as an option
      const revoked = await trustctl(["revoke", "token", jti, "--sub", "orders", "--exp", String(inTenMinutes()), "--reason", "watch me", "--json"], mesh.env);
      expect(revoked, revoked.stderr).toMatchObject({ code: 0 });
      const { eventId, sequence } = JSON.parse(revoked.stdout) as RevokeJson;

      const first = JSON.parse(await watch.stdoutLine(() => true)) as Record<string, unknown>;
      expect(first).toMatchObject({ type: "event", eventId, sequence, kind: "token", target: { jti, sub: "orders" }, reason: "watch me" });
      expect(first["actor"]).toBeTypeOf("string");
      for (const [serviceId, instanceId] of INSTANCES) {
        const ack = JSON.parse(await watch.stdoutLine((line) => line.includes(`"instanceId":"${instanceId}"`))) as Record<string, unknown>;
        expect(ack).toMatchObject({ type: "ack", eventId, sequence, serviceId, instanceId });
      }
    } finally {
      const ended = await watch.stop("SIGTERM");
      expect(ended.code, ended.stderr).toBe(0);
      expect(ended.stderr).not.toMatch(/trustctl: (?!watching)/);
    }
  });

  it("revoke key <kid>: the issuer rotates, and every instance rejects what the key signed", async () => {
    const result = await trustctl(["revoke", "key", activeKid, "--reason", "key leaked"], mesh.env);
    expectAppliedByAll(result);
    expect(result.stdout).toMatch(new RegExp(`^revoked signing key ${activeKid}: out of the JWKS, and every token it signed no longer verifies; \\S+ signs from now on`));
    expect(subscribers.map((subscriber) => subscriber.check(query({ kid: activeKid })))).toEqual(["revoked-kid", "revoked-kid", "revoked-kid"]);
  });

  it("status lists the three instances with their last applied sequence, as text and as JSON", async () => {
    const expected = subscribers.map((subscriber) => subscriber.lastAppliedSequence);
    expect(new Set(expected).size).toBe(1);
    const [json, text] = await Promise.all([trustctl(["status", "--json", "--wait", "500"], mesh.env), trustctl(["status", "--wait", "500"], mesh.env)]);

    expect(json, json.stderr).toMatchObject({ code: 0, stderr: "" });
    const status = JSON.parse(json.stdout) as { stream: { lastSequence: number }; instances: Record<string, unknown>[] };
    expect(status.stream.lastSequence).toBe(expected[0]);
    expect(status.instances).toEqual(
      INSTANCES.map(([serviceId, instanceId]) => ({ serviceId, instanceId, state: "fresh", lastAppliedSequence: expected[0], behind: 0, stalenessMs: expect.any(Number) as unknown })),
    );

    expect(text, text.stderr).toMatchObject({ code: 0, stderr: "" });
    const lines = text.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe(`TRUSTMESH_REVOCATIONS on ${nats().url}: last sequence ${expected[0]}, ${expected[0]} events held`);
    expect(lines[1]).toMatch(/^SERVICE +INSTANCE +STATE +APPLIED +BEHIND +STALENESS$/);
    for (const [index, [serviceId, instanceId]] of INSTANCES.entries()) {
      expect(lines[index + 2]).toMatch(new RegExp(`^${serviceId} +${instanceId} +fresh +${expected[0]} +0 +\\d+(\\.\\d)? m?s$`));
    }
    expect(lines.at(-1)).toBe("3 instances within 500 ms");
  });
});
