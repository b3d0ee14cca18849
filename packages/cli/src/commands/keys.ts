import type { Command } from "../command.js";

export const keysList: Command = {
  words: ["keys", "list"],
  operands: [],
  synopsis: "",
  summary: "list the issuer's signing keys",
  description: "Lists the next, active and retired signing keys, with when each starts signing and leaves the JWKS.",
  options: {},
  optionHelp: [],
  run: async (context) => (await import("../actions/keys.js")).listKeys(context),
};

export const keysRotate: Command = {
  words: ["keys", "rotate"],
  operands: [],
  synopsis: "[--force]",
  summary: "make the published next key the active one",
  description: [
    "Promotes the next key (published in the JWKS ahead of time) to active and publishes a new",
    "next key. The issuer refuses (FAILED_PRECONDITION) while the next key has been published for",
    "less than its pre-publication window, because verifiers may not have fetched it yet.",
  ].join("\n"),
  options: { force: { type: "boolean" } },
  optionHelp: [["--force", "rotate anyway, for a compromised key: verifiers that have not refreshed their JWKS refuse new tokens for a while"]],
  run: async (context) => (await import("../actions/keys.js")).rotateKeys(context),
};
