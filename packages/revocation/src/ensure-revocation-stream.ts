import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from "@nats-io/jetstream";
import { RevocationError } from "./errors.js";
import { toUnavailable } from "./lib/nats-errors.js";
import { requireInteger } from "./lib/validate.js";
import { REVOCATION_STREAM, REVOCATION_SUBJECTS } from "./subjects.js";

/** The verifier's defaults: tokens live at most 15 minutes, clocks may disagree by 30 seconds. */
export const DEFAULT_MAX_TOKEN_LIFETIME_SEC = 900;
export const DEFAULT_TOLERANCE_SEC = 30;
export const DEFAULT_REPLICAS = 1;
/** An event is a few hundred bytes; anything near this is not one of ours. */
export const MAX_EVENT_BYTES = 4096;

export interface RevocationStreamOptions {
  /** The longest `exp - iat` any verifier accepts. */
  readonly maxTokenLifetimeSec?: number;
  /** How long past `exp` a verifier still accepts a token (its clock tolerance). */
  readonly toleranceSec?: number;
  /** JetStream replicas; production clusters want 3. */
  readonly replicas?: number;
}

export interface ResolvedStreamOptions {
  readonly maxTokenLifetimeSec: number;
  readonly toleranceSec: number;
  readonly replicas: number;
}

export function resolveStreamOptions(options: RevocationStreamOptions = {}): ResolvedStreamOptions {
  const code = "ERR_REVOCATION_OPTIONS";
  return {
    maxTokenLifetimeSec: requireInteger(code, "maxTokenLifetimeSec", options.maxTokenLifetimeSec ?? DEFAULT_MAX_TOKEN_LIFETIME_SEC, 1, 86_400),
    toleranceSec: requireInteger(code, "toleranceSec", options.toleranceSec ?? DEFAULT_TOLERANCE_SEC, 0, 3_600),
    replicas: requireInteger(code, "replicas", options.replicas ?? DEFAULT_REPLICAS, 1, 5),
  };
}

/**
 * Every event names tokens that verify until at most `max_age` after it is published: a token
 * revocation's token was issued before the publish, so it expires within the lifetime; a subject
 * or key revocation names tokens issued before T ≤ the publish, which all expire by T + lifetime.
 * A verifier still accepts a token for the tolerance past `exp`, hence the sum. The publisher
 * refuses events that would outlive this (see `createRevocationPublisher`). Nothing older is
 * needed, so the stream, and the replay a new subscriber does, stay small.
 */
export function revocationStreamConfig(options: RevocationStreamOptions = {}): Partial<StreamConfig> & { name: string } {
  const { maxTokenLifetimeSec, toleranceSec, replicas } = resolveStreamOptions(options);
  const maxAgeNanos = (maxTokenLifetimeSec + toleranceSec) * 1_000_000_000;
  return {
    name: REVOCATION_STREAM,
    subjects: [REVOCATION_SUBJECTS],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: maxAgeNanos,
    // A publish retried with the same event id is stored once for as long as the event matters.
    duplicate_window: maxAgeNanos,
    max_msgs: -1,
    max_bytes: -1,
    // Every token revocation shares one subject: a per-subject limit would silently drop them.
    max_msgs_per_subject: -1,
    max_msg_size: MAX_EVENT_BYTES,
    num_replicas: replicas,
    // A revocation must not be erased while the tokens it names still verify.
    deny_delete: true,
    deny_purge: true,
  };
}

/**
 * Creates TRUSTMESH_REVOCATIONS, or brings an existing one to this configuration. Safe to call
 * from every publisher at start.
 */
export async function ensureRevocationStream(jsm: JetStreamManager, options: RevocationStreamOptions = {}): Promise<StreamInfo> {
  const config = revocationStreamConfig(options);
  try {
    const existing = await streamInfo(jsm);
    if (existing === undefined) {
      try {
        return await jsm.streams.add(config);
      } catch (error) {
        // Another publisher created it first: fall through to the comparison below.
        if (!(error instanceof JetStreamApiError)) throw error;
      }
    }
    const current = existing ?? (await jsm.streams.info(REVOCATION_STREAM));
    return differs(current.config, config) ? await jsm.streams.update(REVOCATION_STREAM, config) : current;
  } catch (error) {
    if (error instanceof RevocationError) throw error;
    if (error instanceof JetStreamApiError) {
      throw new RevocationError("ERR_REVOCATION_STREAM", `the server refused the ${REVOCATION_STREAM} stream configuration`, {
        cause: error,
      });
    }
    throw toUnavailable(error, `could not reach JetStream to set up ${REVOCATION_STREAM}`);
  }
}

async function streamInfo(jsm: JetStreamManager): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(REVOCATION_STREAM);
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) return undefined;
    throw error;
  }
}

function differs(current: StreamConfig, wanted: Partial<StreamConfig>): boolean {
  return Object.entries(wanted).some(([key, value]) => {
    return JSON.stringify(current[key as keyof StreamConfig]) !== JSON.stringify(value);
  });
}
