/**
 * `pnpm bench [name ...]`: runs every benchmark, or only those named, prints a table per result
 * group and writes each benchmark's results to bench/results/<name>.json. A benchmark reports
 * its figures against its goals; it exits non-zero only when an operation it measures fails.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { formatGroup, type Benchmark } from "./lib/report.js";

/** One line per benchmark module, loaded only when it runs. */
const BENCHMARKS: Readonly<Record<string, () => Promise<{ default: Benchmark }>>> = {
  verifier: () => import("./verifier.bench.js"),
  issuer: () => import("./issuer.bench.js"),
  revocation: () => import("./revocation.bench.js"),
  grpc: () => import("./grpc.bench.js"),
};

const RESULTS_DIR = new URL("./results/", import.meta.url);

async function main(names: readonly string[]): Promise<void> {
  const unknown = names.filter((name) => !Object.hasOwn(BENCHMARKS, name));
  if (unknown.length > 0) {
    console.error(`unknown benchmark: ${unknown.join(", ")} (available: ${Object.keys(BENCHMARKS).join(", ")})`);
    process.exitCode = 2;
    return;
  }
  const selected = names.length > 0 ? names : Object.keys(BENCHMARKS);
  const machine = {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
  };
  console.log(`node ${machine.node}, ${machine.platform}, ${machine.cores} × ${machine.cpu}`);
  await mkdir(RESULTS_DIR, { recursive: true });

  for (const name of selected) {
    const load = BENCHMARKS[name];
    if (load === undefined) continue;
    const benchmark = (await load()).default;
    console.log(`\n== ${name}: ${benchmark.description}`);
    const startedAt = new Date();
    const groups = await benchmark.run();
    const seconds = (Date.now() - startedAt.getTime()) / 1000;
    for (const group of groups) console.log(`\n${formatGroup(group)}`);
    const file = new URL(`${name}.json`, RESULTS_DIR);
    const result = {
      name,
      description: benchmark.description,
      startedAt: startedAt.toISOString(),
      seconds,
      machine,
      measure: benchmark.measure,
      groups,
    };
    await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`\n${name}: ${seconds.toFixed(1)} s, results in ${relative(process.cwd(), fileURLToPath(file))}`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error("benchmark failed:", error);
  process.exitCode = 1;
});
