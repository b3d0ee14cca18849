import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { createRevocationPublisher } from "@trustmesh/revocation";
import { generateTestKey, jwksOf, mintTestToken, newJti, startNats, TEST_AUDIENCE, TEST_ISSUER, TEST_SUBJECT } from "@trustmesh/testing";
const N = 1000;
const nats = await startNats();
const key = await generateTestKey();
const pub = createRevocationPublisher({ servers: nats.url });
await pub.revokeToken({ jti: newJti(), sub: TEST_SUBJECT, exp: Math.floor(Date.now() / 1000) + 60, reason: "x", actor: "y" });
for (const mode of ["ack", "noack", "ack", "noack"]) {
  const spec = { natsUrl: nats.url, serviceId: "bench", instanceId: `p-${mode}`, issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwks: jwksOf(key) };
  const child = spawn(process.execPath, ["--conditions=trustmesh-source", "--import", "tsx", "bench/revocation-debug-child.ts", JSON.stringify(spec), mode], { stdio: ["pipe", "pipe", "inherit"] });
  const lines: ((l: { cpuUs: number; rejections: { at: number }[] }) => void)[] = [];
  createInterface({ input: child.stdout }).on("line", (l) => { lines.shift()?.(JSON.parse(l) as { cpuUs: number; rejections: { at: number }[] }); });
  const next = () => new Promise<{ cpuUs: number; rejections: { at: number }[] }>((r) => lines.push(r));
  await next();
  const nowSec = Math.floor(Date.now() / 1000);
  const toks: { jti: string; text: string }[] = [];
  for (let i = 0; i < N; i++) { const jti = newJti(); toks.push({ jti, text: await mintTestToken(key, { nowSec, claims: { jti } }) }); }
  child.stdin.write(JSON.stringify({ type: "arm", tokens: toks.map((t) => t.text) }) + "\n");
  const armed = await next();
  const returned: number[] = [];
  for (const t of toks) {
    await pub.revokeToken({ jti: t.jti, sub: TEST_SUBJECT, exp: nowSec + 600, reason: "x", actor: "y" });
    returned.push(performance.timeOrigin + performance.now());
    await new Promise((r) => setTimeout(r, 6));
  }
  child.stdin.write(JSON.stringify({ type: "final" }) + "\n");
  const f = await next();
  const lat = f.rejections.map((r, i) => r.at - (returned[i] ?? 0)).sort((a, b) => a - b);
  console.log(mode, "cpu µs/revocation", ((f.cpuUs - armed.cpuUs) / N).toFixed(0), "latency p50", lat[N >> 1]?.toFixed(3), "p99", lat[Math.floor(N * 0.99)]?.toFixed(3), "n", lat.length);
  child.stdin.end();
  await new Promise((r) => child.once("exit", r));
}
await pub.close(); await nats.dispose();
