import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";

const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const INDEX_URL = new URL("../index.ts", import.meta.url).href;
const PORT_RELEASE_DEADLINE_MS = 5_000;

interface Started {
  readonly ports: readonly number[];
  readonly dirs: readonly string[];
}

type Ending = "process.exit" | "uncaught exception" | "SIGTERM";

/** A child Node process that starts both servers and then ends without stopping them. */
async function runAbandoningChild(ending: Ending): Promise<{ started: Started; signal: string | null }> {
  const finish = {
    "process.exit": "process.exit(0);",
    "uncaught exception": "setImmediate(() => { throw new Error('test crashed'); });",
    SIGTERM: "setInterval(() => {}, 60_000);",
  }[ending];
  const script = `
    import { startNats, startRedis } from ${JSON.stringify(INDEX_URL)};
    const [redis, nats] = await Promise.all([startRedis(), startNats()]);
    console.log(JSON.stringify({ ports: [redis.port, nats.port], dirs: [redis.dir, nats.storeDir] }));
    ${finish}
  `;
  const child = spawn(
    process.execPath,
    ["--conditions=trustmesh-source", "--import", "tsx", "--input-type=module", "-e", script],
    { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "ignore"] },
  );
  const exited = new Promise<string | null>((resolve) => {
    child.once("exit", (_, signal) => {
      resolve(signal);
    });
  });
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once("line", resolve);
    void exited.then(() => {
      reject(new Error("child exited before reporting its servers"));
    });
  });
  const started = JSON.parse(first) as Started;
  if (ending === "SIGTERM") child.kill("SIGTERM");
  return { started, signal: await exited };
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => {
      resolve(false);
    });
    probe.listen({ host: "127.0.0.1", port, exclusive: true }, () => {
      probe.close(() => {
        resolve(true);
      });
    });
  });
}

/** SIGKILL is delivered at once but the kernel closes the listener a moment later. */
async function portReleased(port: number): Promise<boolean> {
  const deadline = Date.now() + PORT_RELEASE_DEADLINE_MS;
  while (Date.now() < deadline) {
    if (await canBind(port)) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

describe("reaper", () => {
  it.each<[Ending, string | null]>([
    ["process.exit", null],
    ["uncaught exception", null],
    ["SIGTERM", "SIGTERM"],
  ])("kills servers and removes dirs a process abandons by %s", async (ending, signal) => {
    const result = await runAbandoningChild(ending);
    expect(result.signal).toBe(signal);
    for (const dir of result.started.dirs) expect(existsSync(dir)).toBe(false);
    for (const port of result.started.ports) expect(await portReleased(port)).toBe(true);
  });
});
