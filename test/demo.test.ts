import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { useRedis } from "@trustmesh/testing/vitest";
import { describe, expect, it } from "vitest";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));

async function demo(env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ["--conditions=trustmesh-source", "--import", "tsx", "services/demo-mesh/src/main.ts"], {
    cwd: repoRoot,
    timeout: 60_000,
    env: { PATH: process.env["PATH"] ?? "", ...env },
  });
  return stdout;
}

describe("pnpm demo", () => {
  it("tells its whole story on embedded defaults and exits 0", async () => {
    const stdout = await demo();
    expect(stdout).toContain("the embedded in-memory store");
    expect(stdout).not.toContain("FAIL");
    expect(stdout).toMatch(/(\d+)\/\1 steps behaved as stated/);
  }, 90_000);

  describe("with Redis configured", () => {
    const redis = useRedis();
    it("keeps the issuer's state in Redis, and says so", async () => {
      const stdout = await demo({ TRUSTMESH_REDIS_URL: redis().url });
      expect(stdout).toContain("state in Redis");
      expect(stdout).toMatch(/(\d+)\/\1 steps behaved as stated/);
    }, 90_000);
  });
});
