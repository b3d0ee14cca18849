/**
 * @trustmesh/revocation: revoke a token, a subject's tokens or a signing key, and have every
 * instance of every service reject them within milliseconds. One JetStream stream carries the
 * events; the publisher returns only once it has stored one, and each subscriber replays the
 * stream before it is ready, follows it live, keeps a bounded in-memory denylist, and fails
 * closed when it has lost touch with the stream for too long.
 */
export {
  createRevocationPublisher,
  DEFAULT_PUBLISH_TIMEOUT_MS,
  type PublishedRevocation,
  type RevocationAudit,
  type RevocationPublisher,
  type RevocationPublisherOptions,
  type RevokeKeyInput,
  type RevokeSubjectInput,
  type RevokeTokenInput,
} from "./create-revocation-publisher.js";
export {
  createRevocationSubscriber,
  DEFAULT_CONTACT_CHECK_INTERVAL_MS,
  DEFAULT_MAX_STALENESS_MS,
  DEFAULT_STALE_POLICY,
  PRUNE_INTERVAL_MS,
  PRUNE_SWEEP_TICKS,
  type RevocationSubscriber,
  type RevocationSubscriberOptions,
  type StalePolicy,
  type SubscriberState,
} from "./create-revocation-subscriber.js";
export { Denylist, DEFAULT_PRUNE_BUDGET, type DenylistOptions, type DenylistSize } from "./denylist.js";
export {
  ensureRevocationStream,
  revocationStreamConfig,
  DEFAULT_MAX_TOKEN_LIFETIME_SEC,
  DEFAULT_REPLICAS,
  DEFAULT_TOLERANCE_SEC,
  MAX_EVENT_BYTES,
  type RevocationStreamOptions,
} from "./ensure-revocation-stream.js";
export { RevocationError, REVOCATION_ERROR_CODES, type RevocationErrorCode, type RevocationErrorDetail } from "./errors.js";
export type { NatsTarget } from "./lib/connection.js";
export type { RevocationLogger } from "./logger.js";
export {
  REVOCATION_ACK_SUBJECTS,
  REVOCATION_STREAM,
  REVOCATION_SUBJECTS,
  revocationAckSubject,
  revocationSubject,
  type RevocationKind,
} from "./subjects.js";
export { REVOCATION_PRESENCE_SUBJECT, type RevocationPresence } from "./presence-responder.js";
