import type { Command } from "../command.js";

export const policyCheck: Command = {
  words: ["policy", "check"],
  operands: ["<proto-dir>"],
  synopsis: "",
  summary: "report the (trustmesh.v1.policy) of every RPC in a proto tree; fail if one has none",
  description: [
    "Loads every .proto file under <proto-dir> (recursively) with @grpc/proto-loader, imports",
    "resolved against <proto-dir> and then trustmesh's own protos (so trustmesh/v1/policy.proto is",
    "found), reads the method policies exactly as @trustmesh/grpc's policiesFromProto does, and",
    "prints every RPC of every service with its policy, or MISSING: the interceptor denies every",
    "call to an RPC without one. Needs no issuer.",
    "Exit 0: every RPC has a policy. Exit 1: an RPC has none, a file does not parse, or a policy",
    "option is invalid (one line on stderr names it). Exit 2: usage error, or no .proto under <proto-dir>.",
  ].join("\n"),
  options: {},
  optionHelp: [],
  run: async (context) => (await import("../actions/policy-check.js")).checkPolicies(context),
};
