import { status } from "@grpc/grpc-js";
import type { adminV1 } from "@trustmesh/proto";
import { tallyText } from "../ack-tally.js";
import { millisecondsOption, requiredString, stringValue, type CommandContext } from "../command.js";
import { CliError, EXIT, usageError } from "../exit-codes.js";
import { openAdminSession, type AdminSession } from "../issuer-client.js";
import { natsTarget } from "../nats-connection.js";
import { isoTime, printable, type CommandResult } from "../output.js";
import { serviceView } from "../present.js";
import { readTokenFromStdin } from "../read-stdin.js";
import { startFollowing, type Followed, type RevocationFollow } from "../revocation-follow.js";

export const DEFAULT_ACK_WAIT_MS = 2000;
const MAX_WAIT_MS = 60_000;

/** What one revoke call gave back: its receipt, and how to describe it. */
interface Revoked {
  readonly receipt: adminV1.RevocationReceipt | undefined;
  /** The first line of the human output, before the event id. */
  readonly summary: string;
  /** Fields of the --json document beside the receipt's. */
  readonly fields: Readonly<Record<string, unknown>>;
}

export async function revokeToken(context: CommandContext): CommandResult {
  const { values, operands, io } = context;
  const [jti] = operands;
  const token = stringValue(values, "token");
  const reason = requiredString(values, "reason");
  let request: adminV1.RevokeTokenRequest;
  if (jti !== undefined) {
    if (token !== undefined) throw usageError("give the token's <jti> or --token, not both");
    const sub = requiredString(values, "sub");
    const expText = requiredString(values, "exp");
    const expUnix = Number(expText);
    if (!/^\d{1,12}$/.test(expText)) throw usageError("--exp must be the token's exp claim: whole seconds since the epoch");
    request = { target: { $case: "jti", value: jti }, sub, expUnix, reason };
  } else {
    if (token === undefined) throw usageError("give the token's <jti> (with --sub and --exp) or --token <jwt|->");
    if (values["sub"] !== undefined || values["exp"] !== undefined) throw usageError("--sub and --exp go with <jti>; with --token the issuer reads them from the token");
    const text = token === "-" ? await readTokenFromStdin(io) : token.trim();
    if (text === "") throw usageError("--token must not be empty");
    request = { target: { $case: "token", value: text }, sub: "", expUnix: 0, reason };
  }
  return revokeAndFollow(context, "token", async (session) => {
    const response = await session.call("revokeToken", request);
    return { receipt: response.receipt, summary: jti === undefined ? "revoked the token" : `revoked token ${jti}`, fields: jti === undefined ? {} : { jti } };
  });
}

export async function revokeService(context: CommandContext): CommandResult {
  const [id] = context.operands as [string];
  const reason = requiredString(context.values, "reason");
  return revokeAndFollow(context, "service", async (session) => {
    const response = await session.call("revokeService", { id, reason });
    const view = serviceView(response.service);
    return {
      receipt: response.receipt,
      summary: `revoked service ${view.id}: disabled, and its tokens issued before ${isoTime(response.issuedBeforeUnix * 1000)} no longer verify`,
      fields: { service: view, issuedBeforeUnix: response.issuedBeforeUnix },
    };
  });
}

export async function revokeSigningKey(context: CommandContext): CommandResult {
  const [kid] = context.operands as [string];
  const reason = requiredString(context.values, "reason");
  return revokeAndFollow(context, "key", async (session) => {
    const response = await session.call("revokeSigningKey", { kid, reason });
    return {
      receipt: response.receipt,
      summary: `revoked signing key ${kid}: out of the JWKS, and every token it signed no longer verifies; ${response.activeKid} signs from now on`,
      fields: { kid, activeKid: response.activeKid },
    };
  });
}

/**
 * Subscribes to the acks and asks who listens before revoking, so no ack can come too early to
 * be seen; then revokes, and waits for the acks. Following is best effort: when NATS cannot be
 * reached from here the revocation still goes ahead (the issuer refuses it if it cannot store it).
 */
async function revokeAndFollow(context: CommandContext, kind: "token" | "service" | "key", revoke: (session: AdminSession) => Promise<Revoked>): CommandResult {
  const { globals, values, io, out } = context;
  const waitMs = millisecondsOption(values, "wait", DEFAULT_ACK_WAIT_MS, 0, MAX_WAIT_MS);
  const target = natsTarget(values, io.env);
  const session = await openAdminSession(globals);
  let follow: RevocationFollow | undefined;
  try {
    if (target !== undefined && waitMs > 0) {
      try {
        follow = await startFollowing(target, globals.timeoutMs);
      } catch (error) {
        out.note(`trustctl: revoking without following the acks: ${error instanceof CliError ? error.message : "NATS failed"}`);
      }
    }
    let revoked: Revoked;
    try {
      revoked = await revoke(session);
    } catch (error) {
      throw notConfirmed(error);
    }
    const returnedAtMs = Date.now();
    const { receipt } = revoked;
    if (receipt === undefined) throw new CliError(EXIT.REFUSED, "the issuer's response carries no revocation receipt");
    const followed = await follow?.finish(receipt.eventId, receipt.streamSequence, returnedAtMs, waitMs);
    print(context, kind, revoked, receipt, followed, waitMs);
    if (target === undefined && !out.json) out.note("trustctl: give --nats <url> (or TRUSTMESH_NATS_URL) to see the instances apply it");
    return EXIT.OK;
  } finally {
    await follow?.close();
    session.close();
  }
}

function print({ out }: CommandContext, kind: string, revoked: Revoked, receipt: adminV1.RevocationReceipt, followed: Followed | undefined, waitMs: number): void {
  if (out.json) {
    const result = followed?.tally;
    out.data({
      kind,
      ...revoked.fields,
      eventId: receipt.eventId,
      sequence: receipt.streamSequence,
      revokedAtUnixMs: followed?.revokedAtUnixMs ?? null,
      waitedMs: followed?.waitedMs ?? 0,
      listening: result?.listening ?? null,
      applied: result?.applied.length ?? null,
      slowestMs: result?.slowestMs ?? null,
      instances: result?.applied ?? null,
      missing: result === undefined || result.listening === undefined ? null : result.missing,
    });
    return;
  }
  out.line(printable(`${revoked.summary} (event ${receipt.eventId}, sequence ${receipt.streamSequence})`));
  if (followed !== undefined) out.line(printable(tallyText(followed.tally, waitMs)));
}

/**
 * A deadline that passed mid-call leaves the outcome unknown: the issuer may have stored the
 * event after all. (UNAVAILABLE from the issuer says itself that nothing was revoked.)
 */
function notConfirmed(error: unknown): unknown {
  if (!(error instanceof CliError) || error.grpcStatus !== status.DEADLINE_EXCEEDED) return error;
  return new CliError(error.exitCode, `${error.message}; whether it was revoked is unknown: trustctl watch --from-start shows the events stored`, error.grpcStatus);
}
