import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expectOneLineError, REPO_ROOT, trustctl } from "./harness.js";

// Relative to the repository root, where the harness runs trustctl.
const FIXTURES = "test/cli/fixtures";
// policy check needs no issuer: nothing listens here.
const env = { TRUSTMESH_ISSUER_ADDRESS: "127.0.0.1:1" };

interface Report {
  readonly ok: boolean;
  readonly files: readonly string[];
  readonly services: readonly { readonly name: string; readonly methods: readonly { readonly path: string; readonly policy: unknown }[] }[];
  readonly missing: readonly string[];
}

async function jsonReport(dir: string): Promise<{ code: number | null; report: Report }> {
  const result = await trustctl(["policy", "check", dir, "--json"], env);
  return { code: result.code, report: JSON.parse(result.stdout) as Report };
}

describe.concurrent("trustctl policy check", () => {
  it("exits 0 and prints every RPC's policy when every RPC has one, for every call kind", async () => {
    const result = await trustctl(["policy", "check", `${FIXTURES}/policy-covered`], env);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^RPC\s+POLICY$/);
    expect(lines).toContainEqual(expect.stringMatching(/^\/shop\.v1\.Catalog\/GetItem\s+scopes catalog:read$/));
    expect(lines).toContainEqual(expect.stringMatching(/^\/shop\.v1\.Catalog\/ListItems\s+public$/));
    expect(lines).toContainEqual(expect.stringMatching(/^\/shop\.v1\.Catalog\/ImportItems\s+scopes catalog:write; services importer; tenants acme,globex$/));
    expect(lines).toContainEqual(expect.stringMatching(/^\/shop\.v1\.Catalog\/SyncItems\s+services sync$/));
    expect(lines.at(-1)).toBe("1 service, 4 RPCs: 4 with a policy, 0 MISSING");
  });

  it("--json gives the same report for scripts, files found recursively", async () => {
    const { code, report } = await jsonReport(`${FIXTURES}/policy-covered`);
    expect(code).toBe(0);
    expect(report).toMatchObject({ ok: true, files: ["shop/v1/shop.proto", "shop/v1/types.proto"], missing: [] });
    expect(report.services).toEqual([
      {
        name: "shop.v1.Catalog",
        methods: [
          { path: "/shop.v1.Catalog/GetItem", policy: { public: false, scopes: ["catalog:read"] } },
          { path: "/shop.v1.Catalog/ListItems", policy: { public: true, scopes: [] } },
          { path: "/shop.v1.Catalog/ImportItems", policy: { public: false, scopes: ["catalog:write"], services: ["importer"], tenants: ["acme", "globex"] } },
          { path: "/shop.v1.Catalog/SyncItems", policy: { public: false, scopes: [], services: ["sync"] } },
        ],
      },
    ]);
  });

  it("exits 1 and marks each RPC without a policy MISSING, naming them on stderr", async () => {
    const result = await trustctl(["policy", "check", `${FIXTURES}/policy-missing`], env);
    expect(result.code).toBe(1);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines).toContainEqual(expect.stringMatching(/^\/billing\.v1\.Billing\/GetInvoice\s+scopes billing:read$/));
    expect(lines).toContainEqual(expect.stringMatching(/^\/billing\.v1\.Billing\/VoidInvoice\s+MISSING$/));
    expect(lines).toContainEqual(expect.stringMatching(/^\/billing\.v1\.Ledger\/Append\s+MISSING$/));
    expect(lines.at(-1)).toBe("2 services, 3 RPCs: 1 with a policy, 2 MISSING");
    expect(expectOneLineError(result)).toBe(
      "trustctl: no (trustmesh.v1.policy) for /billing.v1.Billing/VoidInvoice, /billing.v1.Ledger/Append: every call to them is denied",
    );
  });

  it("--json lists the missing RPCs, with a null policy", async () => {
    const { code, report } = await jsonReport(`${FIXTURES}/policy-missing`);
    expect(code).toBe(1);
    expect(report).toMatchObject({ ok: false, missing: ["/billing.v1.Billing/VoidInvoice", "/billing.v1.Ledger/Append"] });
    expect(report.services.flatMap((service) => service.methods).find((method) => method.path === "/billing.v1.Billing/VoidInvoice")).toEqual({
      path: "/billing.v1.Billing/VoidInvoice",
      policy: null,
    });
  });

  it("exits 1 with the PolicyError on one line when an option is invalid, and reports nothing", async () => {
    const result = await trustctl(["policy", "check", `${FIXTURES}/policy-invalid`], env);
    expect(result).toMatchObject({ code: 1, stdout: "" });
    expect(expectOneLineError(result)).toBe('trustctl: ERR_POLICY_INVALID: /audit.v1.Audit/Record: (trustmesh.v1.policy) has no field "scope"');
  });

  it("exits 1 naming the file when a proto does not parse", async () => {
    const result = await trustctl(["policy", "check", `${FIXTURES}/policy-unparsable`], env);
    expect(result).toMatchObject({ code: 1, stdout: "" });
    expect(expectOneLineError(result)).toMatch(/^trustctl: broken\.proto: illegal token .*\(line 6\)$/);
  });

  it("exits 1 naming an import that resolves nowhere, in one line", async () => {
    const dir = await mkdtemp(join(tmpdir(), "policy-check-"));
    try {
      await writeFile(join(dir, "a.proto"), 'syntax = "proto3";\npackage a.v1;\nimport "nowhere/x.proto";\nservice A {\n  rpc B(x.X) returns (x.X);\n}\n');
      const result = await trustctl(["policy", "check", dir], env);
      expect(result).toMatchObject({ code: 1, stdout: "" });
      expect(expectOneLineError(result)).toBe(`trustctl: a.proto: imports "nowhere/x.proto", which is neither under <proto-dir> nor among trustmesh's protos`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [[], /^trustctl: missing <proto-dir>/],
    [["test/cli/fixtures/no-such-dir"], /^trustctl: <proto-dir> "test\/cli\/fixtures\/no-such-dir" is not a directory$/],
    [["test/cli/policy-check.test.ts"], /is not a directory$/],
    [["test/cli/fixtures", "extra"], /^trustctl: unexpected argument "extra"/],
    [["test/cli/fixtures", "--bogus"], /^trustctl: Unknown option '--bogus'/],
  ] as const)("usage error %j exits 2", async (args, message) => {
    const result = await trustctl(["policy", "check", ...args], env);
    expect(result).toMatchObject({ code: 2, stdout: "" });
    expect(expectOneLineError(result)).toMatch(message);
  });

  it("exits 2 for a directory without .proto files", async () => {
    const dir = await mkdtemp(join(tmpdir(), "policy-check-"));
    try {
      const result = await trustctl(["policy", "check", dir], env);
      expect(result).toMatchObject({ code: 2, stdout: "" });
      expect(expectOneLineError(result)).toMatch(/^trustctl: no \.proto files under /);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("passes on the repository's own proto/: issuer RPCs public, admin RPCs trustmesh:admin, demo RPCs their own", async () => {
    const { code, report } = await jsonReport("proto");
    expect(code).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.missing).toEqual([]);
    // Every service declared in the tree is in the report, so none was skipped unnoticed.
    expect(report.services.map((service) => service.name).sort()).toEqual(await declaredServices(join(REPO_ROOT, "proto")));
    const policies = Object.fromEntries(report.services.flatMap((service) => service.methods.map((method) => [method.path, method.policy])));
    for (const [path, policy] of Object.entries(policies)) {
      if (path.startsWith("/trustmesh.issuer.v1.TokenIssuer/")) expect(policy, path).toEqual({ public: true, scopes: [] });
      else if (path.startsWith("/trustmesh.admin.v1.IssuerAdmin/")) expect(policy, path).toEqual({ public: false, scopes: ["trustmesh:admin"] });
    }
    expect(Object.keys(policies).filter((path) => path.startsWith("/trustmesh.issuer.v1."))).toEqual([
      "/trustmesh.issuer.v1.TokenIssuer/IssueToken",
      "/trustmesh.issuer.v1.TokenIssuer/RefreshToken",
      "/trustmesh.issuer.v1.TokenIssuer/GetJwks",
    ]);
    expect(Object.keys(policies).filter((path) => path.startsWith("/trustmesh.admin.v1.")).length).toBeGreaterThanOrEqual(7);
    expect(policies).toMatchObject({
      "/trustmesh.demo.v1.Payments/Charge": { public: false, scopes: ["payments:charge"], services: ["orders"] },
      "/trustmesh.demo.v1.Payments/WatchReceipts": { public: false, scopes: ["payments:charge"] },
      "/trustmesh.demo.v1.Orders/PlaceOrder": { public: false, scopes: ["orders:place"] },
    });
  });
});

/** `package.Service` for every `service` declaration in the .proto files under `dir`. */
async function declaredServices(dir: string): Promise<string[]> {
  const names: string[] = [];
  for (const file of await readdir(dir, { recursive: true })) {
    if (!file.endsWith(".proto")) continue;
    const text = await readFile(join(dir, file), "utf8");
    const pkg = /^package\s+([\w.]+);/m.exec(text)?.[1];
    for (const match of text.matchAll(/^service\s+(\w+)/gm)) names.push(`${pkg ?? ""}.${match[1] ?? ""}`);
  }
  return names.sort();
}
