/**
 * The admin API (trustmesh.admin.v1). The interceptor in front of it has already checked the
 * caller's token and the `trustmesh:admin` scope from admin.proto; every change is logged with
 * the caller as actor.
 */
import { calculateJwkThumbprint } from "jose";
import type { Logger } from "pino";
import { requireCaller } from "@trustmesh/grpc";
import { adminV1, type issuerV1 } from "@trustmesh/proto";
import { importJwk } from "@trustmesh/verifier/internal";
import { IssuerError } from "../issuer-error.js";
import { KeyringError } from "../keys/keyring.js";
import type { SigningKeys } from "../keys/signing-keys.js";
import { StoreError, type AudienceScopes, type IssuerStore, type PublicJwk, type ServiceIdentity } from "../store/index.js";
import { toProtoJwk, unary } from "./token-issuer-handlers.js";

const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;

type IdentityAndKeyMethods = Pick<
  adminV1.IssuerAdminServer,
  "registerService" | "updateService" | "disableService" | "getService" | "listServices" | "rotateSigningKey" | "listSigningKeys"
>;

/** The admin API but for revocations (revocation-handlers.ts). */
export function adminHandlers(store: IssuerStore, signingKeys: SigningKeys, log: Logger): IdentityAndKeyMethods {
  const audit = (call: { metadata: unknown }, action: string, fields: Record<string, unknown>): void => {
    log.info({ audit: true, actor: requireCaller(call as never).serviceId, action, ...fields }, "admin action");
  };
  return {
    registerService: unary(log, "RegisterService", async (request: adminV1.RegisterServiceRequest, call) => {
      const keys = await publicKeys(request.keys);
      const service = await storeCall(() => store.registerService({ id: request.id, tenantId: request.tenantId, keys, audiences: audiences(request.audiences) }));
      audit(call, "register-service", { serviceId: service.id, tenantId: service.tenantId, kids: service.keys.map((key) => key.kid) });
      return { service: toProtoIdentity(service) };
    }),
    updateService: unary(log, "UpdateService", async (request: adminV1.UpdateServiceRequest, call) => {
      const changes = {
        ...(request.keys === undefined ? {} : { keys: await publicKeys(request.keys.keys) }),
        ...(request.audiences === undefined ? {} : { audiences: audiences(request.audiences.grants) }),
      };
      const service = await storeCall(() => store.updateService(request.id, request.expectedRevision, changes));
      audit(call, "update-service", { serviceId: service.id, revision: service.revision, changed: Object.keys(changes) });
      return { service: toProtoIdentity(service) };
    }),
    disableService: unary(log, "DisableService", async (request: adminV1.DisableServiceRequest, call) => {
      const service = await storeCall(() => store.disableService(request.id));
      audit(call, "disable-service", { serviceId: service.id, reason: request.reason.slice(0, 256) });
      return { service: toProtoIdentity(service) };
    }),
    getService: unary(log, "GetService", async (request: adminV1.GetServiceRequest) => {
      const service = await storeCall(() => store.getService(request.id));
      if (service === undefined) throw new IssuerError("ERR_NOT_FOUND", "no service identity has this id");
      return { service: toProtoIdentity(service) };
    }),
    listServices: unary(log, "ListServices", async (request: adminV1.ListServicesRequest) => {
      const pageSize = request.pageSize === 0 ? DEFAULT_PAGE_SIZE : request.pageSize;
      if (!Number.isInteger(pageSize) || pageSize < 0 || pageSize > MAX_PAGE_SIZE) {
        throw new IssuerError("ERR_INVALID_ARGUMENT", `page_size must be from 0 to ${MAX_PAGE_SIZE}`);
      }
      const after = request.pageToken === "" ? "" : Buffer.from(request.pageToken, "base64url").toString("utf8");
      const all = await storeCall(() => store.listServices());
      const page = all.filter((service) => service.id > after).slice(0, pageSize);
      const last = page.at(-1);
      const more = last !== undefined && all.some((service) => service.id > last.id);
      return { services: page.map(toProtoIdentity), nextPageToken: more ? Buffer.from(last.id).toString("base64url") : "" };
    }),
    rotateSigningKey: unary(log, "RotateSigningKey", async (request: adminV1.RotateSigningKeyRequest, call) => {
      let outcome;
      try {
        outcome = await signingKeys.rotate({ immediate: request.force });
      } catch (error) {
        if (error instanceof KeyringError && error.code === "ERR_NEXT_KEY_NOT_READY") {
          throw new IssuerError("ERR_FAILED_PRECONDITION", `${error.message}; wait, or force an immediate rotation`);
        }
        throw storeFailure(error);
      }
      if (!outcome.rotated) throw new IssuerError("ERR_ABORTED", "another issuer replica changed the keyring at the same time; retry");
      audit(call, "rotate-signing-key", { activeKid: outcome.activeKid, nextKid: outcome.nextKid, immediate: request.force });
      return { activeKid: outcome.activeKid, nextKid: outcome.nextKid };
    }),
    listSigningKeys: unary(log, "ListSigningKeys", async () => {
      await storeCall(() => signingKeys.reload());
      return {
        keys: signingKeys.list().map((key) => ({
          kid: key.kid,
          alg: key.alg,
          state: STATES[key.state],
          createdAtUnixMs: key.createdAtMs,
          activatesAtUnixMs: key.activatesAtMs ?? 0,
          ...(key.retiredAtMs === undefined ? {} : { retiredAtUnixMs: key.retiredAtMs }),
          ...(key.publishUntilMs === undefined ? {} : { publishUntilUnixMs: key.publishUntilMs }),
        })),
      };
    }),
  };
}

const STATES = {
  next: adminV1.SigningKeyState.SIGNING_KEY_STATE_NEXT,
  active: adminV1.SigningKeyState.SIGNING_KEY_STATE_ACTIVE,
  retired: adminV1.SigningKeyState.SIGNING_KEY_STATE_RETIRED,
} as const;

/** Assertion keys must be usable signing keys whose kid is their RFC 7638 thumbprint. */
async function publicKeys(keys: readonly issuerV1.JsonWebKey[]): Promise<PublicJwk[]> {
  if (keys.length === 0 || keys.length > 2) throw new IssuerError("ERR_INVALID_ARGUMENT", "a service has one or two public keys");
  return Promise.all(
    keys.map(async (key) => {
      const jwk: PublicJwk = { kty: key.kty, crv: key.crv, x: key.x, ...(key.y === undefined || key.y === "" ? {} : { y: key.y }), kid: key.kid, ...(key.alg === "" ? {} : { alg: key.alg }), use: "sig" };
      const imported = importJwk(jwk);
      if ("rejected" in imported) throw new IssuerError("ERR_INVALID_ARGUMENT", `key ${key.kid.slice(0, 64)} is not usable: ${imported.rejected}`);
      const thumbprint = await calculateJwkThumbprint(jwk, "sha256");
      if (thumbprint !== key.kid) throw new IssuerError("ERR_INVALID_ARGUMENT", "a key's kid must be its RFC 7638 SHA-256 thumbprint");
      return jwk;
    }),
  );
}

function audiences(grants: readonly adminV1.AudienceGrant[]): AudienceScopes {
  const map: Record<string, readonly string[]> = Object.create(null) as Record<string, readonly string[]>;
  for (const grant of grants) {
    if (Object.hasOwn(map, grant.audience)) throw new IssuerError("ERR_INVALID_ARGUMENT", "an audience is granted twice");
    map[grant.audience] = [...new Set(grant.scopes)].sort();
  }
  return { ...map };
}

export function toProtoIdentity(service: ServiceIdentity): adminV1.ServiceIdentity {
  return {
    id: service.id,
    tenantId: service.tenantId,
    keys: service.keys.map(toProtoJwk),
    audiences: Object.entries(service.audiences).map(([audience, scopes]) => ({ audience, scopes: [...scopes] })),
    status: service.status === "active" ? adminV1.ServiceStatus.SERVICE_STATUS_ACTIVE : adminV1.ServiceStatus.SERVICE_STATUS_DISABLED,
    createdAtUnixMs: service.createdAtMs,
    updatedAtUnixMs: service.updatedAtMs,
    revision: service.revision,
  };
}

export async function storeCall<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw storeFailure(error);
  }
}

function storeFailure(error: unknown): unknown {
  if (!(error instanceof StoreError)) return error;
  switch (error.code) {
    case "ERR_SERVICE_EXISTS":
      return new IssuerError("ERR_ALREADY_EXISTS", "a service identity with this id exists already");
    case "ERR_SERVICE_NOT_FOUND":
      return new IssuerError("ERR_NOT_FOUND", "no service identity has this id");
    case "ERR_STALE_REVISION":
      return new IssuerError("ERR_ABORTED", "the service identity changed since that revision; read it again and retry");
    case "ERR_INVALID_INPUT":
      return new IssuerError("ERR_INVALID_ARGUMENT", error.message, { field: error.field });
    case "ERR_STORE_UNAVAILABLE":
    case "ERR_STORE_CLOSED":
      return new IssuerError("ERR_UNAVAILABLE", "the issuer's store is unavailable; retry with backoff", { storeCode: error.code });
    default:
      return new IssuerError("ERR_INTERNAL", "internal error", { storeCode: error.code });
  }
}
