import { RevocationError } from "../errors.js";

/** Whatever kept NATS from answering (timeout, no responders, closed connection) means "not stored". */
export function toUnavailable(cause: unknown, message: string, eventId?: string): RevocationError {
  if (cause instanceof RevocationError) return cause;
  return new RevocationError("ERR_REVOCATION_UNAVAILABLE", message, { cause, ...(eventId === undefined ? {} : { eventId }) });
}
