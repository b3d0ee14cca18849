/**
 * One service instance for revocation.bench.ts: a revocation subscriber on the bench's NATS and a
 * verifier that consults it, with every armed token verified once (so each later verify is the
 * cached hot path). After each change the subscriber reports, it verifies the next token to be
 * revoked and notes when that was first rejected; the notes go to the parent at the end. It stops
 * when its stdin closes.
 */
import { createInterface } from "node:readline";
import { createRevocationSubscriber } from "@trustmesh/revocation";
import { createVerifier, VerifyError } from "@trustmesh/verifier";
import { cpuUs, now, type FromSubscriber, type Rejection, type SubscriberSpec, type ToSubscriber } from "./revocation-protocol.js";

const spec = JSON.parse(process.argv[2] ?? "{}") as SubscriberSpec;
const send = (message: FromSubscriber): void => {
  process.stdout.write(`${JSON.stringify(message)}\n`);
};

const subscriber = createRevocationSubscriber({ servers: spec.natsUrl, serviceId: spec.serviceId, instanceId: spec.instanceId });
const verifier = createVerifier({ issuer: spec.issuer, audience: spec.audience, jwks: spec.jwks, revocation: subscriber });
let tokens: readonly string[] = [];
const rejections: Rejection[] = [];
/** The next token to be revoked: the parent revokes them in order, one at a time. */
let next = 0;
let draining = false;
let changedWhileDraining = false;

/** ERR_TOKEN_REVOKED, another error code, or "accepted". */
async function outcome(token: string): Promise<string> {
  try {
    await verifier.verify(token);
    return "accepted";
  } catch (error) {
    return error instanceof VerifyError ? error.code : String(error);
  }
}

/** Runs after every change; a change that lands while it awaits makes it look once more. */
async function drain(): Promise<void> {
  if (draining) {
    changedWhileDraining = true;
    return;
  }
  draining = true;
  do {
    changedWhileDraining = false;
    while (next < tokens.length) {
      const result = await outcome(tokens[next] ?? "");
      const at = now();
      if (result === "accepted") break;
      if (result !== "ERR_TOKEN_REVOKED") {
        send({ type: "error", message: `token ${next}: expected ERR_TOKEN_REVOKED, got ${result}` });
        break;
      }
      rejections.push({ index: next, at, sequence: subscriber.lastAppliedSequence });
      next++;
    }
  } while (changedWhileDraining);
  draining = false;
}

async function handle(message: ToSubscriber): Promise<void> {
  switch (message.type) {
    case "arm": {
      for (const [index, token] of message.tokens.entries()) {
        const result = await outcome(token);
        if (result !== "accepted") throw new Error(`armed token ${index} did not verify: ${result}`);
      }
      tokens = message.tokens;
      next = 0;
      rejections.length = 0;
      send({ type: "armed", cpuUs: cpuUs() });
      return;
    }
    case "ping":
      send({ type: "pong", id: message.id, at: now() });
      return;
    case "final": {
      const cpu = cpuUs();
      const results = await Promise.all(tokens.map(outcome));
      send({
        type: "final",
        cpuUs: cpu,
        rejections,
        revoked: results.filter((result) => result === "ERR_TOKEN_REVOKED").length,
        other: [...new Set(results.filter((result) => result !== "ERR_TOKEN_REVOKED"))],
        cacheMisses: verifier.cacheStats().misses,
      });
      return;
    }
  }
}

async function main(): Promise<void> {
  await subscriber.ready();
  subscriber.onChange(() => {
    void drain();
  });
  send({ type: "ready" });
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    try {
      await handle(JSON.parse(line) as ToSubscriber);
    } catch (error) {
      send({ type: "error", message: error instanceof Error ? error.message : String(error) });
    }
  }
  await subscriber.close();
}

main().catch((error: unknown) => {
  send({ type: "error", message: error instanceof Error ? error.message : String(error) });
  process.exitCode = 1;
});
