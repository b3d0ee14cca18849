/**
 * The TRUSTMESH_REVOCATIONS stream as trustctl reads it: its state, one event by sequence, and
 * every failure turned into a CliError (a missing stream means no issuer has published yet).
 */
import { JetStreamApiCodes, JetStreamApiError, jetstreamManager, type JetStreamManager, type StreamState } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { revocationV1 } from "@trustmesh/proto";
import { REVOCATION_STREAM } from "@trustmesh/revocation";
import { CliError, EXIT } from "./exit-codes.js";
import { natsReason, type NatsTarget } from "./nats-connection.js";

export async function openStreamManager(nc: NatsConnection, target: NatsTarget, timeoutMs: number): Promise<JetStreamManager> {
  try {
    return await jetstreamManager(nc, { timeout: timeoutMs });
  } catch (error) {
    throw new CliError(EXIT.UNREACHABLE, `NATS at ${target.display} has no JetStream: ${natsReason(error)}`);
  }
}

export async function streamState(jsm: JetStreamManager, target: NatsTarget): Promise<StreamState> {
  try {
    return (await jsm.streams.info(REVOCATION_STREAM)).state;
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) {
      throw new CliError(EXIT.REFUSED, `NATS at ${target.display} has no ${REVOCATION_STREAM} stream: no issuer with TRUSTMESH_NATS_URL has started against it`);
    }
    throw new CliError(EXIT.UNREACHABLE, `cannot read the ${REVOCATION_STREAM} stream on NATS at ${target.display}: ${natsReason(error)}`);
  }
}

/** The event stored at `sequence`, or undefined if it cannot be read (aged out, NATS gone, not an event). */
export async function readEvent(jsm: JetStreamManager, sequence: number): Promise<revocationV1.RevocationEvent | undefined> {
  try {
    const stored = await jsm.streams.getMessage(REVOCATION_STREAM, { seq: sequence });
    return stored === null ? undefined : revocationV1.RevocationEvent.decode(stored.data);
  } catch {
    return undefined;
  }
}
