/** Help text, built from the command definitions so it cannot drift from what is parsed. */
import { GLOBAL_OPTION_HELP, type Command } from "./command.js";
import { COMMANDS, GROUPS } from "./commands/index.js";

export function rootHelp(): string {
  return [
    "Usage: trustctl <command> [options]",
    "",
    "Manage a trustmesh issuer: service identities, signing keys, tokens, revocations.",
    "",
    "Commands:",
    ...commandList(COMMANDS),
    "",
    "Global options:",
    ...optionLines(GLOBAL_OPTION_HELP),
    "",
    "Exit codes: 0 ok, 1 refused by the issuer, 2 usage error, 3 issuer or NATS unreachable,",
    "4 authentication or permission failure, 5 token does not verify (token inspect).",
    "Run trustctl <command> --help for a command's options.",
  ].join("\n");
}

export function groupHelp(group: string): string {
  return [`Usage: trustctl ${group} <command> [options]`, "", `${GROUPS[group] ?? ""}.`, "", "Commands:", ...commandList(COMMANDS.filter((command) => command.words[0] === group)), "", "Run trustctl --help for the global options."].join("\n");
}

export function commandHelp(command: Command): string {
  return [
    `Usage: ${usage(command)}`,
    "",
    `${command.summary[0]?.toUpperCase() ?? ""}${command.summary.slice(1)}.`,
    "",
    command.description,
    ...(command.optionHelp.length === 0 ? [] : ["", "Options:", ...optionLines(command.optionHelp)]),
    "",
    "Global options:",
    ...optionLines(GLOBAL_OPTION_HELP),
  ].join("\n");
}

export function usage(command: Command): string {
  return ["trustctl", ...command.words, ...command.operands, command.synopsis].filter((part) => part !== "").join(" ");
}

function commandList(commands: readonly Command[]): string[] {
  const names = commands.map((command) => [command.words.join(" "), ...command.operands].join(" "));
  const width = Math.max(...names.map((name) => name.length));
  return commands.map((command, index) => `  ${(names[index] ?? "").padEnd(width)}  ${command.summary}`);
}

function optionLines(options: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(...options.map(([flag]) => flag.length));
  return options.map(([flag, meaning]) => `  ${flag.padEnd(width)}  ${meaning}`);
}
