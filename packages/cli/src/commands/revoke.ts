import type { Command, OptionSpec } from "../command.js";

/** Every revoke command follows the acks the same way. */
const FOLLOW_OPTIONS = {
  reason: { type: "string" },
  nats: { type: "string" },
  wait: { type: "string" },
} as const satisfies OptionSpec;

const FOLLOW_HELP: readonly (readonly [string, string])[] = [
  ["--reason <text>", "why (required): carried in the revocation event, shown by trustctl watch, and in the issuer's audit log"],
  ["--nats <url>", "NATS, to see the instances apply it (env TRUSTMESH_NATS_URL; unset: not followed)"],
  ["--wait <ms>", "how long to wait for the instances' acks (default 2000; 0: do not wait)"],
];

const FOLLOW_TEXT = [
  "With --nats, trustctl listens for the instances' acknowledgements before it revokes, then",
  "prints how many applied it and how fast: applied by 12/12 instances, slowest 4 ms. The total",
  "is the instances that answered trustctl's presence request or acknowledged anything meanwhile;",
  "latency is from the event's revoked_at (issuer's clock) to each instance's applied time.",
].join("\n");

export const revokeToken: Command = {
  words: ["revoke", "token"],
  operands: ["[<jti>]"],
  synopsis: "--sub <id> --exp <unix> | --token <jwt|-> --reason <text> [--nats <url>] [--wait <ms>]",
  summary: "make one access token stop verifying everywhere",
  description: [
    "Revokes one access token: by its jti, with its sub and exp (so every denylist can drop the",
    "entry once the token would have expired anyway), or by the token itself (--token; - reads it",
    "from stdin, keeping it out of the process list). Every instance rejects it within milliseconds.",
    "",
    FOLLOW_TEXT,
  ].join("\n"),
  options: { ...FOLLOW_OPTIONS, sub: { type: "string" }, exp: { type: "string" }, token: { type: "string" } },
  optionHelp: [
    ["--sub <id>", "with <jti>: the token's sub, the service it was minted for"],
    ["--exp <unix>", "with <jti>: the token's exp, in seconds since the epoch"],
    ["--token <jwt|->", "the token itself, instead of <jti>; - reads it from stdin"],
    ...FOLLOW_HELP,
  ],
  run: async (context) => (await import("../actions/revoke.js")).revokeToken(context),
};

export const revokeService: Command = {
  words: ["revoke", "service"],
  operands: ["<id>"],
  synopsis: "--reason <text> [--nats <url>] [--wait <ms>]",
  summary: "disable a service and make every token it holds stop verifying",
  description: [
    "The stop button for a compromised service: the issuer disables the identity (no new tokens)",
    "and revokes every token of it issued before now. Re-key and re-enable it to recover.",
    "",
    FOLLOW_TEXT,
  ].join("\n"),
  options: FOLLOW_OPTIONS,
  optionHelp: FOLLOW_HELP,
  run: async (context) => (await import("../actions/revoke.js")).revokeService(context),
};

export const revokeKey: Command = {
  words: ["revoke", "key"],
  operands: ["<kid>"],
  synopsis: "--reason <text> [--nats <url>] [--wait <ms>]",
  summary: "drop a leaked signing key and make every token it signed stop verifying",
  description: [
    "The issuer drops the key from its JWKS, rotates to a fresh key at once, and revokes every",
    "token the key signed. Services get new tokens signed by the new key as they refresh.",
    "",
    FOLLOW_TEXT,
  ].join("\n"),
  options: FOLLOW_OPTIONS,
  optionHelp: FOLLOW_HELP,
  run: async (context) => (await import("../actions/revoke.js")).revokeSigningKey(context),
};
