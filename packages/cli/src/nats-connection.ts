/**
 * Where trustctl finds NATS (`--nats`, else TRUSTMESH_NATS_URL) and how it connects: for
 * following the revocation stream and the instances' acknowledgements, never for revoking,
 * which always goes through the issuer.
 */
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { stringValue, type OptionValues } from "./command.js";
import { CliError, EXIT, usageError } from "./exit-codes.js";
import type { TrustctlIo } from "./output.js";

/** `nats://host:port`, `tls://host:port` or `host:port`, comma-separated for a cluster. */
const SERVER = /^(?:(?:nats|tls):\/\/)?[^\s/,]+\/?$/;

export interface NatsTarget {
  readonly servers: readonly string[];
  /** The servers as they may be shown: credentials in a URL are masked. */
  readonly display: string;
}

/** undefined when neither --nats nor TRUSTMESH_NATS_URL is set. */
export function natsTarget(values: OptionValues, env: TrustctlIo["env"]): NatsTarget | undefined {
  const fromEnv = env["TRUSTMESH_NATS_URL"]?.trim();
  const text = stringValue(values, "nats") ?? (fromEnv === "" ? undefined : fromEnv);
  if (text === undefined) return undefined;
  const servers = text.split(",").map((server) => server.trim());
  const display = servers.map((server) => server.replace(/^([a-z]+:\/\/)?[^@/]*@/, "$1***@")).join(",");
  if (servers.some((server) => !SERVER.test(server))) {
    throw usageError(`--nats (or TRUSTMESH_NATS_URL) must be nats://host:port, comma-separated for several, not "${display.slice(0, 100)}"`);
  }
  return { servers, display };
}

/** The NATS target, which this command cannot do without. */
export function requireNatsTarget(values: OptionValues, env: TrustctlIo["env"]): NatsTarget {
  const target = natsTarget(values, env);
  if (target === undefined) throw usageError("--nats <url> (or TRUSTMESH_NATS_URL) is required");
  return target;
}

/**
 * One attempt: a tool that cannot reach NATS says so at once. `follow` keeps reconnecting
 * afterwards, for `watch`, which runs until it is stopped.
 */
export async function connectNats(target: NatsTarget, timeoutMs: number, follow = false): Promise<NatsConnection> {
  try {
    return await connect({
      servers: [...target.servers],
      name: "trustctl",
      timeout: timeoutMs,
      ...(follow ? { maxReconnectAttempts: -1, reconnectTimeWait: 500 } : { reconnect: false }),
    });
  } catch (error) {
    throw new CliError(EXIT.UNREACHABLE, `cannot connect to NATS at ${target.display}: ${natsReason(error)}`);
  }
}

/** A NATS or JetStream failure as a short phrase: its message's first line, nothing more. */
export function natsReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.split("\n")[0] ?? "").slice(0, 200) || "failed";
}
