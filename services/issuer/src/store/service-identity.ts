/**
 * Service identity documents: built and changed here, the same way for both stores, and kept
 * as JSON text so a caller mutating what it got back can never change what is stored.
 */
import { invalidInput } from "./errors.js";
import type { AudienceScopes, NewServiceIdentity, PublicJwk, ServiceIdentity, ServiceIdentityChanges } from "./types.js";
import {
  checkAudience,
  checkRevision,
  checkScopes,
  checkServiceId,
  decodeStored,
  isPlainObject,
} from "./validate.js";

const MIN_KEYS = 1;
/** Two while a service rotates its own key: the old one until its last assertion has expired. */
const MAX_KEYS = 2;
const MAX_KID_LENGTH = 256;
/** Generous for any EC/OKP/RSA-4096 public JWK; a bound keeps one identity from bloating the store. */
const MAX_JWK_BYTES = 8192;
/** Parameters that only a private or symmetric JWK has: those must never reach the issuer. */
const PRIVATE_JWK_PARAMETERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] as const;
const STATUSES: ReadonlySet<unknown> = new Set(["active", "disabled"]);

export function newServiceDocument(input: NewServiceIdentity, nowMs: number): ServiceIdentity {
  if (!isPlainObject(input)) throw invalidInput("identity", "must be an object");
  return {
    id: checkServiceId(input.id, "id"),
    tenantId: checkServiceId(input.tenantId, "tenantId"),
    keys: checkKeys(input.keys),
    audiences: checkAudiences(input.audiences),
    status: input.status === undefined ? "active" : checkStatus(input.status),
    createdAtMs: nowMs,
    updatedAtMs: nowMs,
    revision: 1,
  };
}

export function changedServiceDocument(
  current: ServiceIdentity,
  changes: ServiceIdentityChanges,
  nowMs: number,
): ServiceIdentity {
  if (!isPlainObject(changes)) throw invalidInput("changes", "must be an object");
  for (const field of Object.keys(changes)) {
    if (field !== "keys" && field !== "audiences" && field !== "status") {
      throw invalidInput(`changes.${field}`, "cannot be changed (id and tenantId are immutable)");
    }
  }
  return {
    ...current,
    keys: changes.keys === undefined ? current.keys : checkKeys(changes.keys),
    audiences: changes.audiences === undefined ? current.audiences : checkAudiences(changes.audiences),
    status: changes.status === undefined ? current.status : checkStatus(changes.status),
    // A frozen clock must still yield a strictly newer document than the one it replaces.
    updatedAtMs: Math.max(nowMs, current.updatedAtMs),
    revision: current.revision + 1,
  };
}

export function encodeService(service: ServiceIdentity): string {
  return JSON.stringify(service);
}

export function decodeService(json: string): ServiceIdentity {
  return decodeStored("service identity", () => {
    const value: unknown = JSON.parse(json);
    if (!isPlainObject(value)) throw invalidInput("identity", "must be an object");
    const times = [value.createdAtMs, value.updatedAtMs];
    if (!times.every((ms) => typeof ms === "number" && Number.isSafeInteger(ms))) {
      throw invalidInput("createdAtMs", "must be integers");
    }
    return {
      id: checkServiceId(value.id, "id"),
      tenantId: checkServiceId(value.tenantId, "tenantId"),
      keys: checkKeys(value.keys),
      audiences: checkAudiences(value.audiences),
      status: checkStatus(value.status),
      createdAtMs: value.createdAtMs as number,
      updatedAtMs: value.updatedAtMs as number,
      revision: checkRevision(value.revision, "revision"),
    };
  });
}

function checkStatus(value: unknown): ServiceIdentity["status"] {
  if (!STATUSES.has(value)) throw invalidInput("status", "must be active or disabled");
  return value as ServiceIdentity["status"];
}

function checkKeys(value: unknown): PublicJwk[] {
  if (!Array.isArray(value) || value.length < MIN_KEYS || value.length > MAX_KEYS) {
    throw invalidInput("keys", `must hold ${MIN_KEYS} or ${MAX_KEYS} public JWKs`);
  }
  const kids = new Set<string>();
  return (value as unknown[]).map((key, index) => {
    const field = `keys[${index}]`;
    if (!isPlainObject(key)) throw invalidInput(field, "must be a JWK object");
    if (typeof key.kty !== "string" || key.kty === "") throw invalidInput(`${field}.kty`, "must be a non-empty string");
    if (typeof key.kid !== "string" || key.kid === "" || key.kid.length > MAX_KID_LENGTH) {
      throw invalidInput(`${field}.kid`, `must be a string of 1-${MAX_KID_LENGTH} characters`);
    }
    if (kids.has(key.kid)) throw invalidInput(`${field}.kid`, "is used by the other key");
    kids.add(key.kid);
    for (const parameter of PRIVATE_JWK_PARAMETERS) {
      if (parameter in key) throw invalidInput(`${field}.${parameter}`, "is private key material; register the public key only");
    }
    const json = JSON.stringify(key);
    if (Buffer.byteLength(json) > MAX_JWK_BYTES) throw invalidInput(field, `is over ${MAX_JWK_BYTES} bytes`);
    return JSON.parse(json) as PublicJwk;
  });
}

function checkAudiences(value: unknown): AudienceScopes {
  if (!isPlainObject(value)) throw invalidInput("audiences", "must map each audience to its scopes");
  // Object.fromEntries defines own properties, so an audience named "__proto__" stays data.
  return Object.fromEntries(
    Object.entries(value).map(([audience, scopes]) => [
      checkAudience(audience, "audiences"),
      checkScopes(scopes, `audiences[${JSON.stringify(audience)}]`),
    ]),
  );
}
