import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { bootstrapAdmin, type AdminKeyFile } from "./bootstrap-admin.js";
import { createMemoryStore } from "./store/index.js";

const log = pino({ level: "silent" });
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "trustmesh-bootstrap-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const options = (keyFile: string, issuer = "http://127.0.0.1:7071") => ({ store: createMemoryStore(), keyFile, issuer, adminAudience: "trustmesh-admin", log });

describe("admin bootstrap", () => {
  it("creates the admin identity and a 0600 key file on an empty store, and only then", async () => {
    const keyFile = join(dir, "nested", "admin.json");
    const first = options(keyFile);
    expect(await bootstrapAdmin(first)).toBe(true);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const file = JSON.parse(await readFile(keyFile, "utf8")) as AdminKeyFile;
    expect(file).toMatchObject({ serviceId: "trustmesh-admin", issuer: "http://127.0.0.1:7071", audience: "trustmesh-admin" });
    expect(await first.store.getService("trustmesh-admin")).toMatchObject({ audiences: { "trustmesh-admin": ["trustmesh:admin"] } });
    expect(JSON.stringify(await first.store.getService("trustmesh-admin"))).not.toContain(String(file.privateJwk["d"]));
    expect(await bootstrapAdmin(first)).toBe(false);
  });

  it("reuses an existing key file on an empty store, updating a moved issuer", async () => {
    const keyFile = join(dir, "admin.json");
    await bootstrapAdmin(options(keyFile));
    const before = JSON.parse(await readFile(keyFile, "utf8")) as AdminKeyFile;
    const restarted = options(keyFile, "http://127.0.0.1:7072");
    expect(await bootstrapAdmin(restarted)).toBe(true);
    const after = JSON.parse(await readFile(keyFile, "utf8")) as AdminKeyFile;
    expect(after).toEqual({ ...before, issuer: "http://127.0.0.1:7072" });
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect((await restarted.store.getService("trustmesh-admin"))?.keys[0]?.kid).toBe(before.privateJwk["kid"]);
  });

  it.each([
    ["readable by others", async (path: string) => writeFile(path, "{}", { mode: 0o644 }), /readable by others/],
    ["not an admin key", async (path: string) => writeFile(path, JSON.stringify({ serviceId: "orders" }), { mode: 0o600 }), /not a trustmesh admin key/],
  ])("refuses an existing key file that is %s", async (_name, make, message) => {
    const keyFile = join(dir, "admin.json");
    await make(keyFile);
    await expect(bootstrapAdmin(options(keyFile))).rejects.toThrow(message);
  });
});
