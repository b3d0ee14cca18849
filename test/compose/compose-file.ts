/**
 * What compose.test.ts reads: docker-compose.yml as `docker-compose config` resolves it, the
 * commands the READMEs give, and the environment variables a package's sources read.
 */
import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parse } from "yaml";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface ComposeService {
  readonly image?: string;
  readonly build?: { readonly context: string; readonly dockerfile?: string };
  readonly command?: readonly string[];
  readonly environment?: Readonly<Record<string, string | null>>;
  readonly healthcheck?: { readonly test?: readonly string[] | string; readonly disable?: boolean };
  readonly depends_on?: Readonly<Record<string, { readonly condition: string }>>;
  readonly networks?: Readonly<Record<string, unknown>>;
  readonly volumes?: readonly string[];
  readonly restart?: string;
}

export interface ComposeConfig {
  readonly services: Readonly<Record<string, ComposeService>>;
  readonly networks?: Readonly<Record<string, unknown>>;
  readonly volumes?: Readonly<Record<string, unknown>>;
}

const run = promisify(execFile);

/**
 * The file as docker-compose itself resolves it (anchors merged, defaults filled in). Debian's
 * docker-compose 1.29 has no `config --format json`; its YAML output is what every version prints.
 */
export async function composeConfig(): Promise<ComposeConfig> {
  let stdout: string;
  try {
    ({ stdout } = await run("docker-compose", ["-f", "docker-compose.yml", "config"], { cwd: REPO_ROOT, encoding: "utf8" }));
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string };
    if (failure.code === "ENOENT") {
      throw new Error(
        "docker-compose is not installed: `apt-get install -y docker-compose` (Debian's package; .ci/run installs it). " +
          "It validates docker-compose.yml with `docker-compose config` and needs no Docker engine.",
      );
    }
    throw new Error(`docker-compose config rejects docker-compose.yml:\n${failure.stderr ?? String(error)}`);
  }
  return parse(stdout) as ComposeConfig;
}

/** A repository script a container runs: `node … <script>` or `pnpm -s trustctl …`. */
export interface Invocation {
  /** As written in the command, whitespace collapsed. */
  readonly text: string;
  /** The TypeScript entry point it runs, relative to the repository root. */
  readonly script: string;
}

const NODE_RUN = /node --conditions=trustmesh-source --import tsx (\S+)/g;
const TRUSTCTL_RUN = /pnpm -s trustctl [^;&|>]+/g;

export async function invocations(command: readonly string[]): Promise<Invocation[]> {
  const text = command.join(" ").replace(/\s+/g, " ");
  const found: Invocation[] = [...text.matchAll(NODE_RUN)].map((match) => ({ text: match[0], script: match[1] ?? "" }));
  const trustctl = [...text.matchAll(TRUSTCTL_RUN)];
  if (trustctl.length > 0) {
    const script = await trustctlScript();
    found.push(...trustctl.map((match) => ({ text: match[0].trim(), script })));
  }
  return found;
}

/** The entry point behind `pnpm -s trustctl`: the root package.json's script. */
async function trustctlScript(): Promise<string> {
  const manifest = JSON.parse(await readFile(join(REPO_ROOT, "package.json"), "utf8")) as { scripts?: Record<string, string> };
  const script = manifest.scripts?.["trustctl"];
  if (script === undefined) throw new Error("package.json has no trustctl script");
  return script.split(" ").at(-1) ?? "";
}

/**
 * Every command line of the README's shell code blocks, as a person would type it: comments,
 * leading `VAR=value` assignments and line continuations removed, whitespace collapsed.
 */
export async function readmeCommands(readme: string): Promise<string[]> {
  const text = await readFile(join(REPO_ROOT, readme), "utf8");
  const lines: string[] = [];
  for (const block of text.matchAll(/^```(?:sh|bash|shell)?\n([\s\S]*?)^```/gm)) {
    const joined = (block[1] ?? "").replace(/\\\n\s*/g, " ");
    for (const line of joined.split("\n")) {
      const command = line
        .replace(/(^|\s)#.*$/, "")
        .replace(/^\s*(?:[A-Z_][A-Z0-9_]*=\S*\s+)+/, "")
        .replace(/\s+/g, " ")
        .trim();
      if (command !== "") lines.push(command);
    }
  }
  return lines;
}

/** The environment variables the sources under `dir` read: `env["NAME"]`, `read("NAME")`, `(read, "NAME"`, `fromEnv("NAME")`. */
export async function variablesRead(dir: string): Promise<Set<string>> {
  const names = new Set<string>();
  for (const file of await readdir(join(REPO_ROOT, dir), { recursive: true })) {
    if (!file.endsWith(".ts") || file.endsWith(".test.ts")) continue;
    const text = await readFile(join(REPO_ROOT, dir, file), "utf8");
    for (const match of text.matchAll(/(?:env\[|read\(|fromEnv\(|\(read, )"([A-Z][A-Z0-9_]*)"/g)) names.add(match[1] ?? "");
  }
  return names;
}

/** `services/issuer/src/main.ts` → `services/issuer`. */
export function packageOf(script: string): string {
  const match = /^((?:services|packages)\/[^/]+)\//.exec(script);
  if (match?.[1] === undefined) throw new Error(`${script} is not in a workspace package`);
  return match[1];
}
