import { readdir, stat } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import { loadSync, type PackageDefinition } from "@grpc/proto-loader";
import { PolicyError, policiesFromProto, type MethodPolicy, type PolicyMap } from "@trustmesh/grpc";
import { PROTO_ROOT } from "@trustmesh/proto";
import type { CommandContext } from "../command.js";
import { CliError, EXIT, usageError } from "../exit-codes.js";
import { printable, table, type CommandResult } from "../output.js";

interface MethodReport {
  readonly path: string;
  /** `null`: no `(trustmesh.v1.policy)`, so the interceptor denies every call. */
  readonly policy: MethodPolicy | null;
}

interface ServiceReport {
  readonly name: string;
  readonly methods: readonly MethodReport[];
}

export async function checkPolicies({ operands, out }: CommandContext): CommandResult {
  const [operand] = operands as [string];
  const protoDir = resolve(operand);
  const files = await protoFiles(operand, protoDir);
  const definition = load(protoDir, files);
  const services = report(definition, readPolicies(definition));
  const missing = services.flatMap((service) => service.methods.filter((method) => method.policy === null).map((method) => method.path));

  if (out.json) {
    out.data({ ok: missing.length === 0, protoDir, files, services, missing });
  } else {
    const rows = services.flatMap((service) => service.methods.map((method) => [method.path, method.policy === null ? "MISSING" : policyText(method.policy)]));
    for (const line of table(["RPC", "POLICY"], rows)) out.line(printable(line));
    out.line();
    out.line(`${count(services.length, "service")}, ${count(rows.length, "RPC")}: ${rows.length - missing.length} with a policy, ${missing.length} MISSING`);
  }
  if (missing.length > 0) out.note(`trustctl: no (trustmesh.v1.policy) for ${missing.join(", ")}: every call to ${missing.length === 1 ? "it" : "them"} is denied`);
  return missing.length === 0 ? EXIT.OK : EXIT.REFUSED;
}

/** Every .proto under `dir`, relative to it with forward slashes (as imports name them), sorted. */
async function protoFiles(operand: string, dir: string): Promise<string[]> {
  const isDirectory = await stat(dir).then(
    (entry) => entry.isDirectory(),
    () => false,
  );
  if (!isDirectory) throw usageError(`<proto-dir> "${printable(operand.slice(0, 200))}" is not a directory`);
  const found: string[] = [];
  const walk = async (current: string): Promise<void> => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      // Symlinked directories are not followed: a link back up would never end.
      if (entry.isDirectory()) await walk(path);
      else if ((entry.isFile() || entry.isSymbolicLink()) && entry.name.endsWith(".proto")) found.push(relative(dir, path).split(sep).join("/"));
    }
  };
  await walk(dir);
  if (found.length === 0) throw usageError(`no .proto files under "${printable(operand.slice(0, 200))}"`);
  return found.sort();
}

/**
 * All files at once, as a server loading them would; when that fails, each file on its own, only
 * to name the one at fault (protobufjs's messages give a line but not always the file).
 */
function load(protoDir: string, files: readonly string[]): PackageDefinition {
  const options = { includeDirs: [protoDir, PROTO_ROOT] };
  const all = loadQuietly([...files], options);
  if ("definition" in all) return all.definition;
  for (const file of files) {
    const one = loadQuietly(file, options);
    if ("failure" in one) throw new CliError(EXIT.REFUSED, printable(`${file}: ${one.failure}`));
  }
  throw new CliError(EXIT.REFUSED, printable(`${files.join(", ")}: ${all.failure}`));
}

/**
 * proto-loader warns through process.emitWarning about an import it cannot find and then throws
 * ENOENT with a path it guessed; the warning names the import as written, so it becomes the one
 * line of the error instead of extra lines on stderr.
 */
function loadQuietly(files: string | string[], options: { includeDirs: string[] }): { definition: PackageDefinition } | { failure: string } {
  const warnings: string[] = [];
  const emitWarning = Object.getOwnPropertyDescriptor(process, "emitWarning");
  process.emitWarning = (warning: string | Error) => {
    warnings.push(typeof warning === "string" ? warning : warning.message);
  };
  try {
    return { definition: loadSync(files, options) };
  } catch (error) {
    const unresolved = warnings.map((warning) => / not found in any of the include paths /.exec(warning)).find((match) => match !== null);
    if (unresolved !== undefined && (error as Partial<NodeJS.ErrnoException>).code === "ENOENT") {
      return { failure: `imports "${unresolved.input.slice(0, unresolved.index)}", which is neither under <proto-dir> nor among trustmesh's protos` };
    }
    return { failure: error instanceof Error ? error.message : "cannot be loaded" };
  } finally {
    if (emitWarning !== undefined) Object.defineProperty(process, "emitWarning", emitWarning);
  }
}

function readPolicies(definition: PackageDefinition): PolicyMap {
  try {
    return policiesFromProto(definition);
  } catch (error) {
    if (error instanceof PolicyError) throw new CliError(EXIT.REFUSED, printable(`${error.code}: ${error.message}`));
    throw error;
  }
}

function report(definition: PackageDefinition, policies: PolicyMap): ServiceReport[] {
  return Object.entries(definition)
    .flatMap(([name, entry]) => ("format" in entry ? [] : [{ name, methods: Object.values(entry).map((method) => ({ path: method.path, policy: policies[method.path] ?? null })) }]))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function policyText(policy: MethodPolicy): string {
  if (policy.public) return "public";
  const parts = [
    ...(policy.scopes.length > 0 ? [`scopes ${policy.scopes.join(",")}`] : []),
    ...(policy.services === undefined ? [] : [`services ${policy.services.join(",")}`]),
    ...(policy.tenants === undefined ? [] : [`tenants ${policy.tenants.join(",")}`]),
  ];
  return parts.length === 0 ? "any valid token" : parts.join("; ");
}
