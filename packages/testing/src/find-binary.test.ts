import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findBinary, type ServerBinary } from "./find-binary.js";
import { HarnessError } from "./harness-error.js";

const scratch = mkdtempSync(join(tmpdir(), "trustmesh-find-binary-"));
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** A dir holding a file called `name`; returns the dir. */
function binDir(name: ServerBinary, mode = 0o755): string {
  const dir = mkdtempSync(join(scratch, "bin-"));
  writeFileSync(join(dir, name), "#!/bin/sh\n", { mode });
  return dir;
}

function thrown(run: () => unknown): unknown {
  try {
    return run();
  } catch (error) {
    return error;
  }
}

describe("findBinary", () => {
  it("prefers PATH over the fallback dirs", () => {
    const onPath = binDir("nats-server");
    const path = [join(scratch, "missing"), onPath].join(delimiter);
    expect(findBinary("nats-server", { path, fallbackDirs: [binDir("nats-server")] })).toBe(
      join(onPath, "nats-server"),
    );
  });

  it("falls back when PATH lacks the binary (Debian puts nats-server in /usr/sbin)", () => {
    const fallback = binDir("redis-server");
    expect(findBinary("redis-server", { path: "", fallbackDirs: [fallback] })).toBe(join(fallback, "redis-server"));
  });

  it.each<[string, ServerBinary, () => string]>([
    ["redis-server is missing", "redis-server", () => scratch],
    ["nats-server is missing", "nats-server", () => scratch],
    ["nats-server is not executable", "nats-server", () => binDir("nats-server", 0o644)],
  ])("names the Debian package when %s", (_, name, dir) => {
    const error = thrown(() => findBinary(name, { path: dir(), fallbackDirs: [] }));
    expect(error).toBeInstanceOf(HarnessError);
    expect(error).toMatchObject({
      code: "BINARY_NOT_FOUND",
      message: expect.stringContaining(`apt-get install -y ${name}`) as unknown,
    });
  });

  it("finds the real servers on this machine", () => {
    expect(findBinary("redis-server")).toMatch(/\/redis-server$/);
    expect(findBinary("nats-server")).toMatch(/\/nats-server$/);
  });
});
