import { describe, expect, it } from "vitest";
import { expectOneLineError, trustctl } from "./harness.js";

const COMMANDS = [
  ["service", "register"],
  ["service", "list"],
  ["service", "get"],
  ["service", "disable"],
  ["keys", "list"],
  ["keys", "rotate"],
  ["token", "mint"],
  ["token", "inspect"],
  ["revoke", "token"],
  ["revoke", "service"],
  ["revoke", "key"],
] as const;
const SINGLE_COMMANDS = ["watch", "status"] as const;

// No issuer runs here: help and usage errors must never need one (the address is a closed port).
const env = { TRUSTMESH_ISSUER_ADDRESS: "127.0.0.1:1", TRUSTMESH_ADMIN_KEY_FILE: "/nonexistent/admin-key.json" };

describe.concurrent("trustctl --help", () => {
  it("--help lists every command and documents the exit codes", async () => {
    const result = await trustctl(["--help"], env);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toMatch(/^Usage: trustctl <command>/);
    expect(result.stdout).toContain("0 ok, 1 refused by the issuer, 2 usage error, 3 issuer or NATS unreachable");
    for (const [group, name] of COMMANDS) expect(result.stdout).toContain(`${group} ${name}`);
    for (const name of SINGLE_COMMANDS) expect(result.stdout).toMatch(new RegExp(`^  ${name} `, "m"));
  });

  it.each([
    [["service", "--help"], "Usage: trustctl service <command>"],
    [["keys", "-h"], "Usage: trustctl keys <command>"],
    [["token", "--help"], "Usage: trustctl token <command>"],
    [["revoke", "--help"], "Usage: trustctl revoke <command>"],
  ] as const)("%j lists the group's commands", async (args, usage) => {
    const result = await trustctl(args, env);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toContain(usage);
  });

  it.each(COMMANDS)("%s %s --help exits 0 with its usage, options and the global options", async (group, name) => {
    // Help wins over anything else on the line, even arguments that would be wrong.
    const result = await trustctl([group, name, "--help", "--bogus"], env);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toMatch(new RegExp(`^Usage: trustctl ${group} ${name}\\b`));
    expect(result.stdout).toContain("--issuer <host:port>");
    expect(result.stdout).toContain("TRUSTMESH_ADMIN_KEY_FILE");
  });

  it.each(SINGLE_COMMANDS)("%s --help exits 0 with its usage and --nats", async (name) => {
    const result = await trustctl([name, "--help"], env);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toMatch(new RegExp(`^Usage: trustctl ${name} \\[--nats <url>\\]`));
    expect(result.stdout).toContain("TRUSTMESH_NATS_URL");
  });
});

describe.concurrent("usage errors exit 2 with one line on stderr", () => {
  it.each([
    ["no command", [], "which command?"],
    ["an unknown command", ["services", "list"], 'unknown command "services"'],
    ["a group without its command", ["service"], "needs a command: register, list, get, disable"],
    ["an unknown subcommand", ["keys", "delete"], 'unknown command "keys delete"'],
    ["an unknown option", ["service", "list", "--bogus"], "Unknown option '--bogus'"],
    ["an option of another command", ["keys", "list", "--tenant", "acme"], "Unknown option '--tenant'"],
    ["a missing operand", ["service", "get"], "missing <id>"],
    ["an extra operand", ["service", "list", "extra"], 'unexpected argument "extra"'],
    ["an option without its value", ["service", "register", "orders", "--tenant"], "'--tenant <value>' argument missing"],
    ["register without --tenant", ["service", "register", "orders", "--allow", "payments=a"], "--tenant is required"],
    ["register without --allow", ["service", "register", "orders", "--tenant", "acme"], "--allow <audience>=<scope>,… is required"],
    ["an --allow without an audience", ["service", "register", "orders", "--tenant", "acme", "--allow", "=a,b"], 'is not <audience>=<scope>'],
    ["an audience allowed twice", ["service", "register", "orders", "--tenant", "acme", "--allow", "payments=a", "--allow", "payments=b"], 'names audience "payments" twice'],
    ["an id that is no file name, without --key-out", ["service", "register", "../orders", "--tenant", "acme", "--allow", "payments=a"], "pass --key-out"],
    ["mint without --audience", ["token", "mint", "--as", "orders", "--key", "orders.key.json"], "--audience is required"],
    ["inspect without a token", ["token", "inspect"], "missing <jwt>"],
    ["revoke token with neither a jti nor --token", ["revoke", "token", "--reason", "r"], "give the token's <jti> (with --sub and --exp) or --token"],
    ["revoke token by jti without --sub", ["revoke", "token", "jti-1", "--exp", "1767225600", "--reason", "r"], "--sub is required"],
    ["revoke token by jti with an --exp that is no epoch second", ["revoke", "token", "jti-1", "--sub", "orders", "--exp", "2026-01-01", "--reason", "r"], "--exp must be the token's exp claim"],
    ["revoke token --token with --sub", ["revoke", "token", "--token", "a.b.c", "--sub", "orders", "--reason", "r"], "--sub and --exp go with <jti>"],
    ["revoke key with a bad --wait", ["revoke", "key", "kid-1", "--reason", "r", "--wait", "soon"], "--wait must be a whole number of milliseconds from 0"],
    ["revoke key with a --nats that is no NATS URL", ["revoke", "key", "kid-1", "--reason", "r", "--nats", "http://127.0.0.1:4222/x"], "--nats (or TRUSTMESH_NATS_URL) must be nats://host:port"],
    ["revoke without --reason", ["revoke", "service", "orders"], "--reason is required"],
    ["watch without --nats", ["watch"], "--nats <url> (or TRUSTMESH_NATS_URL) is required"],
    ["status with --wait 0", ["status", "--nats", "nats://127.0.0.1:1", "--wait", "0"], "--wait must be a whole number of milliseconds from 1"],
    ["a bad --timeout", ["service", "list", "--timeout", "soon"], "--timeout must be a whole number"],
    ["a bad --issuer", ["service", "list", "--issuer", "http://127.0.0.1:7070"], "must be host:port"],
    ["a plain-http JWKS URL off loopback", ["token", "inspect", "a.b.c", "--iss", "https://issuer.example", "--jwks-url", "http://issuer.example/jwks"], "must be https"],
  ] as const)("%s", async (_, args, message) => {
    const result = await trustctl(args, env);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(expectOneLineError(result)).toContain(message);
  });
});
