import { DeliverPolicy } from "@nats-io/jetstream";
import { revocationV1 } from "@trustmesh/proto";
import { REVOCATION_STREAM } from "@trustmesh/revocation";
import { listenForAcks, type AckListener } from "../ack-listener.js";
import type { CommandContext } from "../command.js";
import { CliError, EXIT } from "../exit-codes.js";
import { connectNats, natsReason, requireNatsTarget } from "../nats-connection.js";
import type { CommandResult } from "../output.js";
import { openStreamManager, streamState } from "../revocation-stream.js";
import { ackLine, ackView, eventLine, eventView, type AckView, type EventView } from "../revocation-views.js";

/** Events whose revokedAt is kept (to give later acks a latency), and acks held for their event. */
const REMEMBERED_EVENTS = 10_000;

/**
 * Follows TRUSTMESH_REVOCATIONS with an ordered consumer (which the client recreates after a
 * reconnect, from the last sequence it delivered) until SIGINT or SIGTERM.
 */
export async function watchRevocations({ globals, values, io, out }: CommandContext): CommandResult {
  const target = requireNatsTarget(values, io.env);
  const showAcks = values["acks"] === true;
  const nc = await connectNats(target, globals.timeoutMs, true);
  let acks: AckListener | undefined;
  try {
    const jsm = await openStreamManager(nc, target, globals.timeoutMs);
    const state = await streamState(jsm, target);
    // From the sequence after the last one now: nothing published from here on can be missed.
    const from = values["from-start"] === true ? Math.max(1, state.first_seq) : state.last_seq + 1;
    const emit = (view: EventView | AckView): void => {
      if (out.json) out.record(view);
      else out.line(view.type === "event" ? eventLine(view) : ackLine(view));
    };

    const revokedAt = new Map<string, number>();
    // An instance may acknowledge an event before this consumer has delivered it: its ack waits
    // for the event's line, so that it follows it and gets its latency.
    let shown = from - 1;
    let early: revocationV1.RevocationAck[] = [];
    const showAck = (ack: revocationV1.RevocationAck): void => {
      emit(ackView(ack, revokedAt.get(ack.eventId)));
    };
    if (showAcks) {
      acks = await listenForAcks(nc);
      acks.onAck((ack) => {
        if (ack.streamSequence <= shown || ack.streamSequence < from) {
          showAck(ack);
          return;
        }
        early.push(ack);
        if (early.length > REMEMBERED_EVENTS) showAck(early.shift() as revocationV1.RevocationAck);
      });
    }
    const consumer = await jsm.jetstream().consumers.get(REVOCATION_STREAM, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from });
    const messages = await consumer.consume();
    const stop = (): void => {
      void messages.close();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    void reportConnection(nc.status(), (text) => {
      out.note(text);
    });
    out.note(`trustctl: watching ${REVOCATION_STREAM} on ${target.display} from sequence ${from}${showAcks ? ", with acks" : ""}; Ctrl-C ends`);
    try {
      for await (const message of messages) {
        let event: revocationV1.RevocationEvent;
        try {
          event = revocationV1.RevocationEvent.decode(message.data);
        } catch {
          out.note(`trustctl: sequence ${message.seq} is not a revocation event; skipped`);
          continue;
        }
        revokedAt.set(event.id, event.revokedAtUnixMs);
        if (revokedAt.size > REMEMBERED_EVENTS) revokedAt.delete(revokedAt.keys().next().value ?? "");
        emit(eventView(message.seq, event));
        shown = message.seq;
        const due = early.filter((ack) => ack.streamSequence <= shown);
        early = early.filter((ack) => ack.streamSequence > shown);
        for (const ack of due) showAck(ack);
      }
    } finally {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    }
    const ended = await messages.closed();
    if (ended instanceof Error) throw new CliError(EXIT.UNREACHABLE, `stopped following ${REVOCATION_STREAM}: ${natsReason(ended)}`);
    return EXIT.OK;
  } finally {
    acks?.stop();
    await nc.close();
  }
}

/** A watch that runs for hours says when it loses NATS and when it has it back. */
async function reportConnection(statuses: AsyncIterable<{ type: string }>, note: (text: string) => void): Promise<void> {
  for await (const status of statuses) {
    if (status.type === "disconnect") note("trustctl: lost NATS; reconnecting");
    if (status.type === "reconnect") note("trustctl: NATS is back; following from the last event shown");
  }
}
