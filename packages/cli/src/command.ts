/**
 * What a trustctl command is: its words, its options in `node:util` parseArgs form, its help
 * text, and a run function. The global options and the environment variables behind them are
 * defined here, once, for every command.
 */
import type { ParseArgsConfig } from "node:util";
import { usageError } from "./exit-codes.js";
import type { CommandResult, Output, TrustctlIo } from "./output.js";

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;
export type OptionValues = Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;

export const DEFAULT_ISSUER_ADDRESS = "127.0.0.1:7070";
export const DEFAULT_ADMIN_KEY_FILE = ".trustmesh/admin-key.json";
export const DEFAULT_TIMEOUT_MS = 5000;
const MAX_TIMEOUT_MS = 600_000;

export interface GlobalOptions {
  /** The issuer's gRPC `host:port`. */
  readonly issuerAddress: string;
  readonly adminKeyFile: string;
  readonly json: boolean;
  /** Deadline of each gRPC call and of the JWKS fetch. */
  readonly timeoutMs: number;
}

export interface CommandContext {
  readonly globals: GlobalOptions;
  readonly values: OptionValues;
  /** The operands after the command's words. */
  readonly operands: readonly string[];
  readonly out: Output;
  readonly io: TrustctlIo;
}

export interface Command {
  /** The words that select it, e.g. ["service", "register"], or one word for a command without a group. */
  readonly words: readonly [string, string] | readonly [string];
  /** The operands, in order, as help shows them: ["<id>"]; an optional one in brackets, ["[<jti>]"]. */
  readonly operands: readonly string[];
  /** The usage line after the words and operands. */
  readonly synopsis: string;
  readonly summary: string;
  /** Paragraphs of help below the usage line. */
  readonly description: string;
  readonly options: OptionSpec;
  /** [flag text, meaning] for each option, in help order. */
  readonly optionHelp: readonly (readonly [string, string])[];
  run(context: CommandContext): CommandResult;
}

export const GLOBAL_OPTIONS = {
  issuer: { type: "string" },
  "admin-key": { type: "string" },
  json: { type: "boolean" },
  timeout: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies OptionSpec;

export const GLOBAL_OPTION_HELP: readonly (readonly [string, string])[] = [
  ["--issuer <host:port>", `the issuer's gRPC address (env TRUSTMESH_ISSUER_ADDRESS; default ${DEFAULT_ISSUER_ADDRESS})`],
  ["--admin-key <file>", `the admin key file the issuer wrote at its first start (env TRUSTMESH_ADMIN_KEY_FILE; default ${DEFAULT_ADMIN_KEY_FILE})`],
  ["--json", "print the result as JSON, for scripts"],
  ["--timeout <ms>", `deadline of each call to the issuer, and of connecting to NATS (default ${DEFAULT_TIMEOUT_MS})`],
  ["-h, --help", "show help for the command"],
];

/** Flags beat the environment, which beats the defaults; each is validated here, once. */
export function readGlobals(values: OptionValues, env: TrustctlIo["env"]): GlobalOptions {
  const fromEnv = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  };
  const issuerAddress = stringValue(values, "issuer") ?? fromEnv("TRUSTMESH_ISSUER_ADDRESS") ?? DEFAULT_ISSUER_ADDRESS;
  if (!/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(issuerAddress)) {
    throw usageError(`--issuer (or TRUSTMESH_ISSUER_ADDRESS) must be host:port, not "${issuerAddress.slice(0, 100)}"`);
  }
  const timeoutText = stringValue(values, "timeout");
  const timeoutMs = timeoutText === undefined ? DEFAULT_TIMEOUT_MS : Number(timeoutText);
  if (timeoutText !== undefined && (!/^\d+$/.test(timeoutText) || timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS)) {
    throw usageError(`--timeout must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS}`);
  }
  return {
    issuerAddress,
    adminKeyFile: stringValue(values, "admin-key") ?? fromEnv("TRUSTMESH_ADMIN_KEY_FILE") ?? DEFAULT_ADMIN_KEY_FILE,
    json: values["json"] === true,
    timeoutMs,
  };
}

export function stringValue(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === "string" ? value : undefined;
}

export function requiredString(values: OptionValues, name: string): string {
  const value = stringValue(values, name);
  if (value === undefined || value === "") throw usageError(`--${name} is required`);
  return value;
}

export function stringList(values: OptionValues, name: string): string[] {
  const value = values[name];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

/** A whole number of milliseconds from `min` to `max`, or `fallback` when the option is absent. */
export function millisecondsOption(values: OptionValues, name: string, fallback: number, min: number, max: number): number {
  const text = stringValue(values, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) throw usageError(`--${name} must be a whole number of milliseconds from ${min} to ${max}`);
  return value;
}
