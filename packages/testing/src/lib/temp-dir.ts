import { mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { trackDir, untrackDir } from "./reaper.js";

/**
 * A fresh directory under the OS temp dir, removed by the reaper if nobody
 * else does. Synchronous on purpose: with an async mkdtemp, a process that
 * crashed between the dir's creation and trackDir() would leak it.
 */
export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  trackDir(dir);
  return dir;
}

export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  untrackDir(dir);
}
