import { chmod, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { generateTestKey } from "@trustmesh/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closedPort, expectOneLineError, startTestIssuer, trustctl, type TestIssuer } from "./harness.js";

let mesh: TestIssuer;
beforeAll(async () => {
  mesh = await startTestIssuer();
});
afterAll(async () => {
  await mesh.close();
});

interface RegisteredJson {
  service: { id: string; tenantId: string; status: string; audiences: Record<string, string[]>; keys: { kid: string; alg: string }[]; revision: number };
  kid: string;
  keyFile: string;
}

async function register(id: string, extra: readonly string[] = []): Promise<RegisteredJson> {
  const result = await trustctl(["service", "register", id, "--tenant", "acme", "--allow", "payments=payments:charge,payments:refund", "--key-out", join(mesh.dir, `${id}.key.json`), "--json", ...extra], mesh.env);
  expect(result, result.stderr).toMatchObject({ code: 0, stderr: "" });
  return JSON.parse(result.stdout) as RegisteredJson;
}

describe.concurrent("service register", () => {
  it("writes a 0600 key file with the private half and registers the public half; it never prints the key", async () => {
    const keyFile = join(mesh.dir, "orders.key.json");
    const result = await trustctl(["service", "register", "orders", "--tenant", "acme", "--allow", "payments=payments:charge,payments:refund", "--allow", "health", "--key-out", keyFile], mesh.env);
    expect(result).toMatchObject({ code: 0, stderr: "" });

    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const content = JSON.parse(await readFile(keyFile, "utf8")) as { serviceId: string; issuer: string; privateJwk: Record<string, string> };
    expect(content).toMatchObject({ serviceId: "orders", issuer: mesh.issuer.issuer, privateJwk: { kty: "OKP", crv: "Ed25519", alg: "EdDSA" } });
    const { d, kid } = content.privateJwk as { d: string; kid: string };
    expect(result.stdout).not.toContain(d);
    expect(result.stdout).toContain(`registered orders (tenant acme)`);
    expect(result.stdout).toContain(`key id    ${kid}`);
    expect(result.stdout).toContain(`key file  ${keyFile}`);
    expect(result.stdout).toContain("allow     payments=payments:charge,payments:refund");

    const stored = await mesh.issuer.store.getService("orders");
    expect(stored?.keys.map((key) => key.kid)).toEqual([kid]);
    expect(stored?.keys[0]).not.toHaveProperty("d");
    expect(stored?.audiences).toEqual({ payments: ["payments:charge", "payments:refund"], health: [] });
  });

  it("--json gives the identity, kid and key file path", async () => {
    const registered = await register("billing");
    expect(registered.service).toMatchObject({ id: "billing", tenantId: "acme", status: "active", revision: 1, audiences: { payments: ["payments:charge", "payments:refund"] } });
    expect(registered.service.keys).toEqual([{ kid: registered.kid, alg: "EdDSA" }]);
    expect(registered.keyFile).toBe(join(mesh.dir, "billing.key.json"));
  });

  describe("a second register never overwrites a key file", () => {
    it.each([
      ["the same id and key file: refused before anything is registered", "same", "same", /ledger-same-same\.key\.json exists already; trustctl never overwrites a key file/],
      ["the same id, a new key file: the issuer's ALREADY_EXISTS, and no file is left", "same", "new", /^trustctl: ALREADY_EXISTS: a service identity with this id exists already$/],
      ["a new id, the same key file: refused, and the new id is not registered", "new", "same", /exists already; trustctl never overwrites a key file/],
    ] as const)("%s", async (_, idChoice, fileChoice, message) => {
      const first = `ledger-${idChoice}-${fileChoice}`;
      const registered = await register(first);
      const before = await readFile(registered.keyFile, "utf8");
      const id = idChoice === "same" ? first : `${first}-2`;
      const keyFile = fileChoice === "same" ? registered.keyFile : join(mesh.dir, `${first}-other.key.json`);

      const again = await trustctl(["service", "register", id, "--tenant", "acme", "--allow", "payments=payments:charge", "--key-out", keyFile], mesh.env);
      expect(again.code).toBe(1);
      expect(expectOneLineError(again)).toMatch(message);
      expect(again.stdout).toBe("");
      expect(await readFile(registered.keyFile, "utf8")).toBe(before);
      expect((await stat(registered.keyFile)).mode & 0o777).toBe(0o600);
      if (fileChoice === "new") await expect(stat(keyFile)).rejects.toMatchObject({ code: "ENOENT" });
      if (idChoice === "new") expect(await mesh.issuer.store.getService(id)).toBeUndefined();
    });
  });

  it("refuses what the issuer refuses (exit 1, INVALID_ARGUMENT) and removes the key file it wrote", async () => {
    const keyFile = join(mesh.dir, "upper.key.json");
    const result = await trustctl(["service", "register", "Upper_Case", "--tenant", "acme", "--allow", "payments=a", "--key-out", keyFile], mesh.env);
    expect(result.code).toBe(1);
    expect(expectOneLineError(result)).toMatch(/^trustctl: INVALID_ARGUMENT: /);
    await expect(stat(keyFile)).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe.concurrent("service list, get, disable", () => {
  it("lists, shows and disables an identity; a disabled service gets no tokens", async () => {
    const registered = await register("shipping");

    const list = await trustctl(["service", "list", "--json"], mesh.env);
    expect(list.code).toBe(0);
    const ids = (JSON.parse(list.stdout) as { services: { id: string }[] }).services.map((service) => service.id);
    expect(ids).toContain("shipping");
    expect(ids).toContain("trustmesh-admin");
    expect(ids).toEqual([...ids].sort());

    const table = await trustctl(["service", "list"], mesh.env);
    expect(table.stdout.split("\n")[0]).toMatch(/^ID\s+TENANT\s+STATUS\s+ALLOW$/);
    expect(table.stdout).toMatch(/^shipping\s+acme\s+active\s+payments=payments:charge,payments:refund$/m);

    const get = await trustctl(["service", "get", "shipping"], mesh.env);
    expect(get).toMatchObject({ code: 0, stderr: "" });
    expect(get.stdout).toMatch(/^service shipping\n {2}tenant {4}acme\n {2}status {4}active\n/);
    expect(get.stdout).toContain(`${registered.kid} (EdDSA)`);

    const disable = await trustctl(["service", "disable", "shipping", "--reason", "decommissioned", "--json"], mesh.env);
    expect(disable.code).toBe(0);
    expect(JSON.parse(disable.stdout)).toMatchObject({ service: { id: "shipping", status: "disabled", revision: 2 } });
    const after = await trustctl(["service", "get", "shipping", "--json"], mesh.env);
    expect(JSON.parse(after.stdout)).toMatchObject({ service: { status: "disabled" } });

    const mint = await trustctl(["token", "mint", "--as", "shipping", "--key", registered.keyFile, "--audience", "payments"], mesh.env);
    expect(mint.code).toBe(4);
    expect(expectOneLineError(mint)).toBe("trustctl: UNAUTHENTICATED: client authentication failed");
  });

  it.each([
    ["get", ["service", "get", "nobody"]],
    ["disable", ["service", "disable", "nobody"]],
  ] as const)("%s of an unknown id exits 1 with NOT_FOUND", async (_, args) => {
    const result = await trustctl(args, mesh.env);
    expect(result.code).toBe(1);
    expect(expectOneLineError(result)).toBe("trustctl: NOT_FOUND: no service identity has this id");
  });
});

describe("keys list, rotate", () => {
  it("lists the keys; rotation inside the pre-publication window needs --force", async () => {
    type KeysJson = { keys: { kid: string; state: string; alg: string }[] };
    const listed = await trustctl(["keys", "list", "--json"], mesh.env);
    expect(listed.code).toBe(0);
    const before = (JSON.parse(listed.stdout) as KeysJson).keys;
    const active = before.find((key) => key.state === "active");
    const next = before.find((key) => key.state === "next");
    expect(active?.alg).toBe("EdDSA");
    expect(next).toBeDefined();

    const refused = await trustctl(["keys", "rotate"], mesh.env);
    expect(refused.code).toBe(1);
    expect(expectOneLineError(refused)).toMatch(/^trustctl: FAILED_PRECONDITION: next key \S+ has been published for \d+ s of the 900 s window; wait, or force an immediate rotation$/);
    expect(mesh.issuer.signingKeys.activeKid).toBe(active?.kid);

    const forced = await trustctl(["keys", "rotate", "--force", "--json"], mesh.env);
    expect(forced).toMatchObject({ code: 0, stderr: "" });
    const rotated = JSON.parse(forced.stdout) as { activeKid: string; nextKid: string; forced: boolean };
    expect(rotated).toMatchObject({ activeKid: next?.kid, forced: true });
    expect(mesh.issuer.signingKeys.activeKid).toBe(next?.kid);

    const table = await trustctl(["keys", "list"], mesh.env);
    expect(table.stdout.split("\n")[0]).toMatch(/^KID\s+ALG\s+STATE\s+ACTIVATES\s+RETIRED\s+PUBLISHED UNTIL$/);
    expect(table.stdout).toMatch(new RegExp(`^${active?.kid}\\s+EdDSA\\s+retired\\s`, "m"));
    expect(table.stdout).toMatch(new RegExp(`^${rotated.nextKid}\\s+EdDSA\\s+next\\s`, "m"));
  });
});

describe.concurrent("admin authentication failures exit 4", () => {
  it.each([
    ["a missing admin key file", "missing", /admin key file \S+ not found \(set --admin-key or TRUSTMESH_ADMIN_KEY_FILE\)$/],
    ["an admin key file others can read", "world-readable", /is readable by others; chmod 600 it$/],
    ["a file that is not JSON", "not-json", /is not a trustmesh Ed25519 key file/],
    ["a key the issuer never registered", "unknown-key", /^trustctl: UNAUTHENTICATED: client authentication failed \(the issuer at \S+ does not accept the admin key in \S+\)$/],
    ["a registered service's key, which has no admin grant", "not-admin", /^trustctl: PERMISSION_DENIED: the requested audience or scopes are not granted to this service/],
  ] as const)("%s", async (_, kind, message) => {
    const path = join(mesh.dir, `admin-${kind}.json`);
    const admin = JSON.parse(await readFile(mesh.adminKeyFile, "utf8")) as Record<string, unknown>;
    if (kind === "world-readable") {
      await writeFile(path, JSON.stringify(admin), { mode: 0o644 });
      await chmod(path, 0o644);
    } else if (kind === "not-json") {
      await writeFile(path, `{"privateJwk": {"d": "SECRET-MATERIAL"`, { mode: 0o600 });
    } else if (kind !== "missing") {
      const key = await generateTestKey();
      const privateJwk = { ...(key.privateKey.export({ format: "jwk" }) as Record<string, unknown>), kid: key.kid, alg: "EdDSA" };
      let serviceId = admin["serviceId"] as string;
      if (kind === "not-admin") {
        serviceId = "plain";
        await mesh.issuer.store.registerService({ id: serviceId, tenantId: "acme", keys: [key.publicJwk], audiences: { payments: ["payments:charge"] } });
      }
      await writeFile(path, JSON.stringify({ ...admin, serviceId, privateJwk }), { mode: 0o600 });
    }
    const result = await trustctl(["service", "list"], { ...mesh.env, TRUSTMESH_ADMIN_KEY_FILE: path });
    expect(result.code).toBe(4);
    expect(result.stdout).toBe("");
    expect(expectOneLineError(result)).toMatch(message);
    expect(result.stderr).not.toContain("SECRET-MATERIAL");
  });
});

describe.concurrent("an unreachable issuer exits 3", () => {
  it.each([
    ["service list", ["service", "list"]],
    ["keys rotate", ["keys", "rotate", "--force"]],
    ["token mint", ["token", "mint", "--as", "trustmesh-admin", "--key", "ADMIN_KEY", "--audience", "trustmesh-admin"]],
  ] as const)("%s", async (_, args) => {
    const port = await closedPort();
    const result = await trustctl(args.map((arg) => (arg === "ADMIN_KEY" ? mesh.adminKeyFile : arg)), { ...mesh.env, TRUSTMESH_ISSUER_ADDRESS: `127.0.0.1:${port}` });
    expect(result.code).toBe(3);
    expect(expectOneLineError(result)).toMatch(new RegExp(`^trustctl: UNAVAILABLE: .*ECONNREFUSED.* \\(issuer 127\\.0\\.0\\.1:${port}\\)$`));
  });
});
