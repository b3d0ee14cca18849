/**
 * The admin API's revocations. Each returns only once JetStream has stored the event, so an
 * operator who sees OK knows every subscriber will apply it; when NATS cannot take it, the
 * answer is UNAVAILABLE and says the revocation did not happen.
 */
import type { Logger } from "pino";
import { requireCaller } from "@trustmesh/grpc";
import type { adminV1 } from "@trustmesh/proto";
import { RevocationError, type PublishedRevocation, type RevocationPublisher } from "@trustmesh/revocation";
import { DEFAULT_MAX_TOKEN_BYTES, type KeySource } from "@trustmesh/verifier";
import { ownMember, verifyCompactJws } from "@trustmesh/verifier/internal";
import { IssuerError } from "../issuer-error.js";
import { KeyringError } from "../keys/keyring.js";
import type { SigningKeys } from "../keys/signing-keys.js";
import type { IssuerStore } from "../store/index.js";
import { storeCall, toProtoIdentity } from "./admin-handlers.js";
import { unary } from "./token-issuer-handlers.js";

export interface RevocationHandlerOptions {
  readonly store: IssuerStore;
  readonly signingKeys: SigningKeys;
  readonly keySource: KeySource;
  readonly publisher: RevocationPublisher | undefined;
  readonly issuer: string;
  readonly now: () => number;
  readonly log: Logger;
}

type RevocationMethods = Pick<adminV1.IssuerAdminServer, "revokeToken" | "revokeService" | "revokeSigningKey">;

export function revocationHandlers(options: RevocationHandlerOptions): RevocationMethods {
  const { store, signingKeys, log, now } = options;
  const publish = async (call: { metadata: unknown }, action: string, send: (publisher: RevocationPublisher, actor: string) => Promise<PublishedRevocation>, fields: Record<string, unknown>) => {
    const publisher = options.publisher;
    if (publisher === undefined) throw new IssuerError("ERR_FAILED_PRECONDITION", "this issuer has no revocation stream: set TRUSTMESH_NATS_URL");
    const actor = requireCaller(call as never).serviceId;
    let published: PublishedRevocation;
    try {
      published = await send(publisher, actor);
    } catch (error) {
      if (error instanceof RevocationError && error.code === "ERR_REVOCATION_INVALID") throw new IssuerError("ERR_INVALID_ARGUMENT", error.message, { field: error.field });
      if (error instanceof RevocationError) {
        throw new IssuerError("ERR_UNAVAILABLE", "the revocation stream is unavailable: the revocation was NOT applied; retry", { revocationCode: error.code });
      }
      throw error;
    }
    log.warn({ audit: true, actor, action, eventId: published.eventId, sequence: published.sequence, ...fields }, "revocation published");
    return { eventId: published.eventId, streamSequence: published.sequence };
  };

  return {
    revokeToken: unary(log, "RevokeToken", async (request: adminV1.RevokeTokenRequest, call) => {
      const target = request.target?.$case === "token" ? await tokenTarget(request.target.value, options) : jtiTarget(request);
      if (target.exp <= Math.floor(now() / 1000) - EXPIRED_SLACK_SEC) throw new IssuerError("ERR_FAILED_PRECONDITION", "that token has expired already: nothing to revoke");
      const receipt = await publish(call, "revoke-token", (publisher, actor) => publisher.revokeToken({ ...target, reason: reasonOf(request), actor }), { jti: target.jti, sub: target.sub });
      return { receipt };
    }),
    revokeService: unary(log, "RevokeService", async (request: adminV1.RevokeServiceRequest, call) => {
      // Disabled first, so no new token is minted while the revocation is on its way.
      const service = await storeCall(() => store.disableService(request.id));
      const issuedBefore = Math.ceil(now() / 1000);
      const receipt = await publish(call, "revoke-service", (publisher, actor) => publisher.revokeSubject({ sub: service.id, issuedBefore, reason: reasonOf(request), actor }), { serviceId: service.id, issuedBefore });
      return { service: toProtoIdentity(service), receipt, issuedBeforeUnix: issuedBefore };
    }),
    revokeSigningKey: unary(log, "RevokeSigningKey", async (request: adminV1.RevokeSigningKeyRequest, call) => {
      if (request.kid === "") throw new IssuerError("ERR_INVALID_ARGUMENT", "name the kid to revoke");
      let activeKid: string;
      try {
        const outcome = await signingKeys.revoke(request.kid);
        if (!outcome.rotated) throw new IssuerError("ERR_ABORTED", "another issuer replica changed the keyring at the same time; retry");
        activeKid = outcome.activeKid;
      } catch (error) {
        // Unknown here: dropped already, perhaps by an earlier attempt whose publish failed.
        // Publishing again completes that attempt; for a kid never seen it costs one entry.
        if (!(error instanceof KeyringError && error.code === "ERR_KEY_UNKNOWN")) throw error;
        activeKid = signingKeys.activeKid;
      }
      const receipt = await publish(call, "revoke-signing-key", (publisher, actor) => publisher.revokeKey({ kid: request.kid, reason: reasonOf(request), actor }), { kid: request.kid, activeKid });
      return { receipt, activeKid };
    }),
  };
}

function reasonOf(request: { reason: string }): string {
  return request.reason.trim() === "" ? "no reason given" : request.reason.slice(0, 512);
}

/** Verifiers accept a token this long past its exp (their clock tolerance). */
const EXPIRED_SLACK_SEC = 30;

function jtiTarget(request: adminV1.RevokeTokenRequest): { jti: string; sub: string; exp: number } {
  if (request.target?.$case !== "jti" || request.target.value === "" || request.sub === "" || request.expUnix <= 0) {
    throw new IssuerError("ERR_INVALID_ARGUMENT", "give the token, or its jti with its sub and exp_unix");
  }
  return { jti: request.target.value, sub: request.sub, exp: request.expUnix };
}

/** A token revoked by value must be one this issuer signed; its claims then name what to revoke. */
async function tokenTarget(token: string, options: RevocationHandlerOptions): Promise<{ jti: string; sub: string; exp: number }> {
  // Past the verifier's own limit it is not a token of ours; refused before any parsing.
  if (token.length > DEFAULT_MAX_TOKEN_BYTES) throw notOurs();
  try {
    const { payload } = await verifyCompactJws(token, {
      algorithms: new Set(["EdDSA", "ES256"]),
      acceptType: (typ) => typ === "at+jwt" || typ === "application/at+jwt",
      requireLowS: true,
      findKey: async (kid) => {
        const key = options.keySource.current(kid) ?? (await options.keySource.resolve(kid));
        if (key === undefined) throw new Error("unknown kid");
        return key;
      },
    });
    const [jti, sub, exp, iss] = (["jti", "sub", "exp", "iss"] as const).map((name) => ownMember(payload, name));
    if (iss === options.issuer && typeof jti === "string" && typeof sub === "string" && typeof exp === "number" && Number.isFinite(exp)) return { jti, sub, exp };
  } catch {
    // Fall through: whatever is wrong with it, it is not a token of ours.
  }
  throw notOurs();
}

function notOurs(): IssuerError {
  return new IssuerError("ERR_INVALID_ARGUMENT", "that is not a token this issuer signed (or its key is already gone from the JWKS)");
}
