/**
 * The closed set of ways revocation can fail. Codes are stable: callers switch on them, and a
 * code is never reused for another meaning.
 */
export type RevocationErrorCode =
  /** The event was not stored: NATS unreachable, no PubAck in time, or the stream missing. */
  | "ERR_REVOCATION_UNAVAILABLE"
  /** A revocation's input cannot be published as given. `field` names the input at fault. */
  | "ERR_REVOCATION_INVALID"
  /** Options that cannot be used, found at construction. `field` names the option. */
  | "ERR_REVOCATION_OPTIONS"
  /** The server refused to create or update the TRUSTMESH_REVOCATIONS stream. */
  | "ERR_REVOCATION_STREAM"
  /** The publisher or subscriber was used after close(), or closed while a caller waited. */
  | "ERR_REVOCATION_CLOSED";

export const REVOCATION_ERROR_CODES: readonly RevocationErrorCode[] = Object.freeze([
  "ERR_REVOCATION_UNAVAILABLE",
  "ERR_REVOCATION_INVALID",
  "ERR_REVOCATION_OPTIONS",
  "ERR_REVOCATION_STREAM",
  "ERR_REVOCATION_CLOSED",
]);

export interface RevocationErrorDetail {
  /** The option or input field at fault, for ERR_REVOCATION_OPTIONS and ERR_REVOCATION_INVALID. */
  readonly field?: string;
  /** The event a failed publish carried: pass it back as `eventId` to retry without a duplicate. */
  readonly eventId?: string;
  readonly cause?: unknown;
}

/** The only error this package rejects or throws with. */
export class RevocationError extends Error {
  override readonly name = "RevocationError";
  readonly code: RevocationErrorCode;
  readonly field: string | undefined;
  readonly eventId: string | undefined;

  constructor(code: RevocationErrorCode, message: string, detail: RevocationErrorDetail = {}) {
    super(message, detail.cause === undefined ? undefined : { cause: detail.cause });
    this.code = code;
    this.field = detail.field;
    this.eventId = detail.eventId;
  }
}
