/**
 * docker-compose.yml against the repository. No Docker engine runs here, so nothing is started:
 * `docker-compose config` validates the file, and the rest checks that what it names exists,
 * runs as the READMEs say, and is configured only with variables its code reads.
 */
import { access } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { composeConfig, invocations, packageOf, readmeCommands, REPO_ROOT, variablesRead, type ComposeConfig, type ComposeService } from "./compose-file.js";

const MESH = ["nats", "redis", "issuer", "demo-payments", "demo-orders"] as const;
/** Every service here but NATS and Redis runs from the workspace image. */
const NODE_SERVICES = ["issuer", "demo-payments", "demo-orders"] as const;

/** Every test fails, none is skipped, when docker-compose is missing or rejects the file. */
let loaded: { readonly config: ComposeConfig } | { readonly error: unknown };

beforeAll(async () => {
  loaded = await composeConfig().then(
    (config) => ({ config }),
    (error: unknown) => ({ error }),
  );
});

function compose(): ComposeConfig {
  if ("error" in loaded) throw loaded.error;
  return loaded.config;
}

function entries(): [string, ComposeService][] {
  return Object.entries(compose().services);
}

/** One-shot services: something waits for them to exit 0 (service_completed_successfully). */
function jobs(): Set<string> {
  return new Set(
    entries().flatMap(([, entry]) => Object.entries(entry.depends_on ?? {}).filter(([, dependency]) => dependency.condition === "service_completed_successfully").map(([name]) => name)),
  );
}

const exists = (path: string): Promise<boolean> =>
  access(join(REPO_ROOT, path)).then(
    () => true,
    () => false,
  );

function service(name: string): ComposeService {
  const found = compose().services[name];
  if (found === undefined) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
}

function healthTest(target: ComposeService): string {
  const test = target.healthcheck?.test;
  return typeof test === "string" ? test : (test ?? []).join(" ");
}

describe("docker-compose.yml", () => {
  it("is valid for docker-compose and runs the whole mesh on one network", () => {
    expect(Object.keys(compose().services)).toEqual(expect.arrayContaining([...MESH]));
    expect(Object.keys(compose().networks ?? {})).toHaveLength(1);
    const [network] = Object.keys(compose().networks ?? {});
    for (const [name, entry] of entries()) expect(Object.keys(entry.networks ?? {}), name).toEqual([network]);
  });

  it("runs NATS with JetStream on a store dir and Redis without persistence, each health-checked", () => {
    const nats = service("nats");
    expect(nats.image).toMatch(/^nats:2\.10(-|$)/);
    expect(nats.command?.join(" ")).toMatch(/(^| )-js( |$)/);
    expect(nats.command?.join(" ")).toContain("-sd /data");
    expect(nats.command?.join(" ")).toContain("-m 8222");
    expect(healthTest(nats)).toContain("http://127.0.0.1:8222/healthz");
    const redis = service("redis");
    expect(redis.image).toBe("redis:7");
    expect(redis.command).toEqual(["redis-server", "--save", "", "--appendonly", "no"]);
    expect(healthTest(redis)).toContain("redis-cli ping");
  });

  it("builds every node container from the repository's Dockerfile", async () => {
    const built = entries().filter(([, entry]) => entry.build !== undefined);
    expect(built.map(([name]) => name)).toEqual(expect.arrayContaining([...NODE_SERVICES]));
    for (const [name, entry] of built) {
      expect(entry.build?.context, name).toBe(REPO_ROOT.replace(/\/$/, ""));
      expect(await exists(entry.build?.dockerfile ?? "Dockerfile"), `${name}: Dockerfile`).toBe(true);
    }
  });

  it("runs, in each node service, a script that exists, the one of the service it is named after", async () => {
    for (const [name, entry] of entries().filter(([, candidate]) => candidate.build !== undefined)) {
      const runs = await invocations(entry.command ?? []);
      if (!jobs().has(name)) expect(runs, `${name} runs no repository script`).not.toEqual([]);
      for (const { script } of runs) expect(await exists(script), `${name}: ${script}`).toBe(true);
      if (await exists(`services/${name}/src/main.ts`)) expect(runs.map(({ script }) => script), name).toEqual([`services/${name}/src/main.ts`]);
    }
  });

  it("runs each script with the command its README gives", async () => {
    const root = await readmeCommands("README.md");
    for (const [name, entry] of entries()) {
      for (const { text, script } of await invocations(entry.command ?? [])) {
        const own = `${packageOf(script)}/README.md`;
        const documented = [...root, ...((await exists(own)) ? await readmeCommands(own) : [])];
        expect(documented, `${name}: "${text}" is in neither README.md nor ${own}`).toContain(text);
      }
    }
  });

  it("health-checks every service that keeps running; one-shot jobs do not restart", () => {
    for (const [name, entry] of entries()) {
      if (jobs().has(name)) {
        expect(entry.restart, name).toBe("no");
        continue;
      }
      expect(entry.healthcheck?.disable, name).not.toBe(true);
      expect(healthTest(entry), `${name} has no health check`).toMatch(/^CMD(-SHELL)? \S/);
    }
  });

  it("waits for dependencies to be healthy (or, for a one-shot job, to have succeeded)", () => {
    const edges = entries().flatMap(([name, entry]) => Object.entries(entry.depends_on ?? {}).map(([target, { condition }]) => ({ name, target, condition })));
    expect(edges).not.toEqual([]);
    for (const { name, target, condition } of edges) {
      expect(Object.keys(compose().services), `${name} depends on ${target}`).toContain(target);
      expect(condition, `${name} → ${target}`).toBe(jobs().has(target) ? "service_completed_successfully" : "service_healthy");
    }
    const dependsOn = (name: string): string[] => Object.keys(service(name).depends_on ?? {});
    expect(dependsOn("issuer")).toEqual(expect.arrayContaining(["nats", "redis"]));
    for (const name of ["demo-payments", "demo-orders"]) expect(dependsOn(name)).toEqual(expect.arrayContaining(["issuer", "nats"]));
  });

  it("gives each node service only variables its code reads", async () => {
    for (const [name, entry] of entries()) {
      const runs = await invocations(entry.command ?? []);
      const read = new Set<string>();
      for (const { script } of runs) for (const variable of await variablesRead(`${packageOf(script)}/src`)) read.add(variable);
      for (const variable of Object.keys(entry.environment ?? {})) expect([...read], `${name}: ${variable} is read by none of ${runs.map(({ script }) => script).join(", ") || "its scripts"}`).toContain(variable);
    }
  });

  it("configures the issuer as the mesh needs it, and points the demo services at it and at NATS", () => {
    expect(service("issuer").environment).toMatchObject({
      TRUSTMESH_ISSUER: "http://issuer:7071",
      TRUSTMESH_GRPC_ADDRESS: "0.0.0.0:7070",
      TRUSTMESH_HTTP_ADDRESS: "0.0.0.0:7071",
      TRUSTMESH_ALLOW_PLAINTEXT: "true",
      TRUSTMESH_REDIS_URL: "redis://redis:6379",
      TRUSTMESH_NATS_URL: "nats://nats:4222",
    });
    expect(service("issuer").environment?.["TRUSTMESH_KEK_FILE"]).toMatch(/^\//);
    for (const name of ["demo-payments", "demo-orders"]) {
      expect(service(name).environment, name).toMatchObject({ TRUSTMESH_ISSUER: "http://issuer:7071", TRUSTMESH_NATS_URL: "nats://nats:4222" });
    }
    expect(service("demo-orders").environment).toMatchObject({ TRUSTMESH_ISSUER_ADDRESS: "issuer:7070", DEMO_PAYMENTS_ADDRESS: "demo-payments:7080" });
  });

  it("names only hosts that are services of the file, and keeps every *_FILE on a volume of its service", () => {
    for (const [name, entry] of entries()) {
      for (const [variable, value] of Object.entries(entry.environment ?? {})) {
        const host = /^(?:[a-z]+:\/\/)?([a-z][a-z0-9-]*):\d+/.exec(value ?? "")?.[1];
        if (host !== undefined && host !== "localhost") expect(Object.keys(compose().services), `${name}: ${variable}=${value ?? ""}`).toContain(host);
        if (variable.endsWith("_FILE")) {
          const mounts = (entry.volumes ?? []).map((volume) => volume.split(":")[1] ?? "");
          expect(
            mounts.some((mount) => (value ?? "").startsWith(`${mount}/`)),
            `${name}: ${variable}=${value ?? ""} is on none of its volumes`,
          ).toBe(true);
        }
      }
    }
  });
});
