import type { Command } from "../command.js";

export const watch: Command = {
  words: ["watch"],
  operands: [],
  synopsis: "[--nats <url>] [--from-start] [--acks]",
  summary: "follow revocations live as they are published",
  description: [
    "Follows the TRUSTMESH_REVOCATIONS stream from now (or from its start) and prints one line per",
    "event: time, sequence, kind, what it revokes, who and why. --acks adds a line per instance as",
    "it applies each event. --json prints one JSON object per line. Ctrl-C (or SIGTERM) ends it.",
  ].join("\n"),
  options: { nats: { type: "string" }, "from-start": { type: "boolean" }, acks: { type: "boolean" } },
  optionHelp: [
    ["--nats <url>", "NATS (env TRUSTMESH_NATS_URL; required)"],
    ["--from-start", "print every event the stream still holds first"],
    ["--acks", "print each instance's acknowledgement as it arrives"],
  ],
  run: async (context) => (await import("../actions/watch.js")).watchRevocations(context),
};

export const status: Command = {
  words: ["status"],
  operands: [],
  synopsis: "[--nats <url>] [--wait <ms>]",
  summary: "list the instances listening for revocations, and how current each is",
  description: [
    "Asks every revocation subscriber where it stands and lists each instance with its state",
    "(replaying, fresh, stale), the last sequence it applied, how far that is behind the stream, and",
    "how long since it last knew it was current. An instance that does not answer within --wait is",
    "not listed, unless it acknowledged an event meanwhile.",
  ].join("\n"),
  options: { nats: { type: "string" }, wait: { type: "string" } },
  optionHelp: [
    ["--nats <url>", "NATS (env TRUSTMESH_NATS_URL; required)"],
    ["--wait <ms>", "how long to gather answers (default 1000)"],
  ],
  run: async (context) => (await import("../actions/status.js")).showStatus(context),
};
