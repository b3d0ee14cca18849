import { setTimeout as sleep } from "node:timers/promises";
import { REVOCATION_STREAM } from "@trustmesh/revocation";
import { listenForAcks } from "../ack-listener.js";
import { millisecondsOption, type CommandContext } from "../command.js";
import { EXIT } from "../exit-codes.js";
import { connectNats, requireNatsTarget } from "../nats-connection.js";
import { printable, table, type CommandResult } from "../output.js";
import { probePresence, type InstancePresence } from "../presence-probe.js";
import { openStreamManager, streamState } from "../revocation-stream.js";
import { instanceName } from "../revocation-views.js";

export const DEFAULT_STATUS_WAIT_MS = 1000;
const MAX_WAIT_MS = 60_000;

interface InstanceStatus {
  readonly serviceId: string;
  readonly instanceId: string;
  /** null: the instance acknowledged an event but did not answer the presence request. */
  readonly state: InstancePresence["state"] | null;
  readonly lastAppliedSequence: number;
  /** The stream's last sequence minus the instance's. */
  readonly behind: number;
  readonly stalenessMs: number | null;
}

/**
 * Asks every subscriber instance where it stands (presence request), counting also those that
 * acknowledge an event meanwhile without answering, and sets that beside the stream's state.
 */
export async function showStatus({ globals, values, io, out }: CommandContext): CommandResult {
  const target = requireNatsTarget(values, io.env);
  const waitMs = millisecondsOption(values, "wait", DEFAULT_STATUS_WAIT_MS, 1, MAX_WAIT_MS);
  const nc = await connectNats(target, globals.timeoutMs);
  try {
    const jsm = await openStreamManager(nc, target, globals.timeoutMs);
    await streamState(jsm, target);
    const acks = await listenForAcks(nc);
    const presence = await probePresence(nc);
    await sleep(waitMs);
    acks.stop();
    presence.stop();
    // Read after the window, so an event applied during it does not show as a lead.
    const state = await streamState(jsm, target);

    const latest = new Map<string, InstanceStatus>();
    const add = (serviceId: string, instanceId: string, sequence: number, reply: InstancePresence | undefined): void => {
      const name = instanceName({ serviceId, instanceId });
      const known = latest.get(name);
      const lastAppliedSequence = Math.max(sequence, known?.lastAppliedSequence ?? 0);
      const answered = reply ?? presence.replies.get(name);
      latest.set(name, {
        serviceId,
        instanceId,
        state: answered?.state ?? null,
        lastAppliedSequence,
        behind: Math.max(0, state.last_seq - lastAppliedSequence),
        stalenessMs: answered?.stalenessMs ?? null,
      });
    };
    for (const reply of presence.replies.values()) add(reply.serviceId, reply.instanceId, reply.lastAppliedSequence, reply);
    for (const ack of acks.acks) add(ack.serviceId, ack.instanceId, ack.streamSequence, undefined);
    const instances = [...latest.values()].sort((a, b) => instanceName(a).localeCompare(instanceName(b)));

    if (out.json) {
      out.data({ stream: { name: REVOCATION_STREAM, firstSequence: state.first_seq, lastSequence: state.last_seq, messages: state.messages }, waitedMs: waitMs, instances });
      return EXIT.OK;
    }
    out.line(`${REVOCATION_STREAM} on ${target.display}: last sequence ${state.last_seq}, ${state.messages} ${state.messages === 1 ? "event" : "events"} held`);
    if (instances.length === 0) {
      out.line(`no instance answered within ${waitMs} ms`);
      return EXIT.OK;
    }
    const rows = instances.map((instance) => [
      instance.serviceId,
      instance.instanceId,
      instance.state ?? "(no answer)",
      String(instance.lastAppliedSequence),
      String(instance.behind),
      instance.state === null ? "-" : instance.stalenessMs === null ? "never in contact" : duration(instance.stalenessMs),
    ]);
    for (const line of table(["SERVICE", "INSTANCE", "STATE", "APPLIED", "BEHIND", "STALENESS"], rows)) out.line(printable(line));
    out.line(`${instances.length} ${instances.length === 1 ? "instance" : "instances"} within ${waitMs} ms`);
    return EXIT.OK;
  } finally {
    await nc.close();
  }
}

function duration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}
