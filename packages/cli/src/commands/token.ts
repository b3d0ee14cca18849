import type { Command } from "../command.js";

export const tokenMint: Command = {
  words: ["token", "mint"],
  operands: [],
  synopsis: "--as <id> --key <file> --audience <audience> [--scope <scope> …]",
  summary: "get an access token as a service, for debugging",
  description: [
    "Asks the issuer for an access token exactly as the service would: with a client assertion",
    "signed by the service's key file. Prints the token alone on stdout, so $(trustctl token mint …)",
    "captures it, and its expiry on stderr. --json adds the refresh token.",
  ].join("\n"),
  options: {
    as: { type: "string" },
    key: { type: "string" },
    audience: { type: "string" },
    scope: { type: "string", multiple: true },
  },
  optionHelp: [
    ["--as <id>", "the service to act as (required)"],
    ["--key <file>", "its key file, as service register wrote it (required)"],
    ["--audience <audience>", "the service the token is for (required)"],
    ["--scope <scope>", "a scope to ask for; repeat for more (none: a token without scopes)"],
  ],
  run: async (context) => (await import("../actions/token-mint.js")).mintToken(context),
};

export const tokenInspect: Command = {
  words: ["token", "inspect"],
  operands: ["<jwt>"],
  synopsis: "[--audience <audience>] [--iss <url>] [--jwks-url <url>]",
  summary: "say what a token claims and whether it verifies, check by check",
  description: [
    "Decodes the token (without trusting it) and prints its header and claims, then one line per",
    "check of the trustmesh profile (✓ passed, ✗ failed, – not checked), then the verdict of",
    "@trustmesh/verifier against the issuer's JWKS: the error code a service would refuse it with.",
    "Give - as <jwt> to read the token from stdin (it then stays out of the process list).",
  ].join("\n"),
  options: {
    audience: { type: "string" },
    iss: { type: "string" },
    "jwks-url": { type: "string" },
  },
  optionHelp: [
    ["--audience <audience>", "the service that would receive it (default: the token's own aud, which then is not compared)"],
    ["--iss <url>", "the trusted issuer (default: the issuer named in the admin key file)"],
    ["--jwks-url <url>", "where its keys are (default: <iss>/.well-known/jwks.json)"],
  ],
  run: async (context) => (await import("../actions/token-inspect.js")).inspectToken(context),
};
