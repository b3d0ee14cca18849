import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));

it("pnpm demo tells its whole story and exits 0", async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--conditions=trustmesh-source", "--import", "tsx", "services/demo-mesh/src/main.ts"],
    { cwd: repoRoot, timeout: 30_000 },
  );
  expect(stdout).not.toContain("FAIL");
  expect(stdout).toMatch(/(\d+)\/\1 steps behaved as stated/);
});
