import type { Command } from "../command.js";

export const serviceRegister: Command = {
  words: ["service", "register"],
  operands: ["<id>"],
  synopsis: "--tenant <tenant> --allow <audience>=<scope>,… [--allow …] [--key-out <file>]",
  summary: "create a service identity with a key pair generated here",
  description: [
    "Generates an Ed25519 key pair on this machine, writes the private half to --key-out (mode",
    "0600; never over an existing file), and registers the public half with the issuer. The key",
    "file is the service's only credential: trustctl never prints it, and nothing else has a copy.",
    "If the issuer refuses, the file is removed again.",
  ].join("\n"),
  options: {
    tenant: { type: "string" },
    allow: { type: "string", multiple: true },
    "key-out": { type: "string" },
  },
  optionHelp: [
    ["--tenant <tenant>", "the tenant, copied into every token as tenant_id (required)"],
    ["--allow <aud>=<s1>,<s2>", "an audience the service may get tokens for, with its scopes; repeat for more (at least one)"],
    ["--key-out <file>", "where to write the private key (default ./<id>.key.json)"],
  ],
  run: async (context) => (await import("../actions/service-register.js")).registerService(context),
};

export const serviceList: Command = {
  words: ["service", "list"],
  operands: [],
  synopsis: "",
  summary: "list every service identity",
  description: "Lists every identity the issuer knows, active and disabled, in id order.",
  options: {},
  optionHelp: [],
  run: async (context) => (await import("../actions/service.js")).listServices(context),
};

export const serviceGet: Command = {
  words: ["service", "get"],
  operands: ["<id>"],
  synopsis: "",
  summary: "show one service identity",
  description: "Shows an identity: tenant, status, its public keys and what it may ask for.",
  options: {},
  optionHelp: [],
  run: async (context) => (await import("../actions/service.js")).getService(context),
};

export const serviceDisable: Command = {
  words: ["service", "disable"],
  operands: ["<id>"],
  synopsis: "[--reason <text>]",
  summary: "stop the issuer minting tokens for a service",
  description: [
    "The identity is kept (its id cannot be taken by someone else) but gets no new tokens.",
    "Tokens already minted stay valid until they expire, at most 15 minutes.",
  ].join("\n"),
  options: { reason: { type: "string" } },
  optionHelp: [["--reason <text>", "why, for the issuer's audit log"]],
  run: async (context) => (await import("../actions/service.js")).disableService(context),
};
