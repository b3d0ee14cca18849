/**
 * trustctl's dispatcher: picks the command from its words, parses its options with node:util
 * parseArgs, runs it, and turns every failure into one line on stderr and an exit code.
 */
import { parseArgs } from "node:util";
import { GLOBAL_OPTIONS, readGlobals, type Command, type OptionSpec, type OptionValues } from "./command.js";
import { COMMANDS, GROUPS } from "./commands/index.js";
import { CliError, EXIT, usageError, type ExitCode } from "./exit-codes.js";
import { commandHelp, groupHelp, rootHelp, usage } from "./help.js";
import { createOutput, type TrustctlIo } from "./output.js";

/** Every option any command knows, so the first pass can tell option values from command words. */
const ALL_OPTIONS: OptionSpec = COMMANDS.reduce<OptionSpec>((all, command) => ({ ...all, ...command.options }), { ...GLOBAL_OPTIONS });

export async function runTrustctl(argv: readonly string[], io: TrustctlIo): Promise<ExitCode> {
  try {
    return await dispatch(argv, io);
  } catch (error) {
    io.stderr.write(`trustctl: ${describe(error)}\n`);
    return error instanceof CliError ? error.exitCode : EXIT.REFUSED;
  }
}

async function dispatch(argv: readonly string[], io: TrustctlIo): Promise<ExitCode> {
  // Lenient first pass: only to find the command and --help; the command's own pass is strict.
  const first = parseArgs({ args: [...argv], options: ALL_OPTIONS, strict: false, allowPositionals: true });
  const help = first.values["help"] === true;
  const [group, name] = first.positionals;
  const say = (text: string): ExitCode => {
    io.stdout.write(`${text}\n`);
    return EXIT.OK;
  };

  if (group === undefined) {
    if (help) return say(rootHelp());
    throw usageError("which command? (trustctl --help lists them)");
  }
  const single = COMMANDS.find((candidate) => candidate.words.length === 1 && candidate.words[0] === group);
  if (single === undefined && !Object.hasOwn(GROUPS, group)) throw usageError(`unknown command "${group.slice(0, 40)}" (trustctl --help lists them)`);
  const command = single ?? COMMANDS.find((candidate) => candidate.words[0] === group && candidate.words[1] === name);
  if (command === undefined) {
    if (help && name === undefined) return say(groupHelp(group));
    const known = COMMANDS.filter((candidate) => candidate.words[0] === group).map((candidate) => candidate.words[1]);
    throw usageError(`${name === undefined ? `trustctl ${group} needs a command` : `unknown command "${group} ${name.slice(0, 40)}"`}: ${known.join(", ")}`);
  }
  if (help) return say(commandHelp(command));

  const { values, operands } = parseStrictly(command, argv);
  const globals = readGlobals(values, io.env);
  return command.run({ globals, values, operands, out: createOutput(io, globals.json), io });
}

function parseStrictly(command: Command, argv: readonly string[]): { values: OptionValues; operands: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: { ...GLOBAL_OPTIONS, ...command.options }, strict: true, allowPositionals: true });
  } catch (error) {
    // Node's parse errors name the option; their second sentence is advice about "--".
    const message = error instanceof Error ? (error.message.split(". ")[0] ?? error.message) : "invalid arguments";
    throw usageError(`${message} (usage: ${usage(command)})`);
  }
  const operands = parsed.positionals.slice(command.words.length);
  const required = command.operands.filter((operand) => !operand.startsWith("[")).length;
  if (operands.length < required) {
    throw usageError(`missing ${command.operands.slice(operands.length, required).join(" ")} (usage: ${usage(command)})`);
  }
  if (operands.length > command.operands.length) {
    throw usageError(`unexpected argument "${(operands[command.operands.length] ?? "").slice(0, 40)}" (usage: ${usage(command)})`);
  }
  if (operands.some((operand) => operand === "")) throw usageError(`${command.operands.join(" ")} must not be empty`);
  return { values: parsed.values, operands };
}

/** CliError messages are written to be shown; anything else is a bug, named but not spelled out. */
function describe(error: unknown): string {
  if (error instanceof CliError) return error.message;
  return `unexpected failure (${error instanceof Error ? error.name : typeof error}); this is a bug in trustctl`;
}
