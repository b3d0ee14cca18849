/**
 * Argument checks shared by both stores, so that memory and Redis refuse exactly the same
 * inputs (the contract suite holds them to it). Arguments arrive from decoded gRPC messages,
 * so they are checked as `unknown`, whatever their static type says.
 */
import { invalidInput, StoreError } from "./errors.js";
import { MAX_REFRESH_TOKEN_LIFETIME_SEC } from "./limits.js";
import { isFamilyId, isRefreshTokenHash } from "./refresh-token.js";
import type { AccessTokenRef, RefreshTokenRecord, RotateRefreshTokenInput, StoredSigningKey } from "./types.js";

const SERVICE_ID = /^[a-z0-9][a-z0-9._-]{0,62}$/;
/** Visible ASCII only: audiences and jtis become parts of Redis keys and log lines. */
const VISIBLE_ASCII = /^[\x21-\x7E]+$/;
const MAX_AUDIENCE_LENGTH = 255;
const MAX_JTI_LENGTH = 256;
/** RFC 6749 §3.3 scope-token: no space (scopes travel space-separated), no `"` or `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const MAX_SCOPE_LENGTH = 255;
const KEY_STATES: ReadonlySet<unknown> = new Set(["next", "active", "retired"]);

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function checkServiceId(value: unknown, field: string): string {
  if (!isServiceId(value)) {
    throw invalidInput(field, "must match [a-z0-9][a-z0-9._-]{0,62}");
  }
  return value;
}

export function checkAudience(value: unknown, field: string): string {
  if (typeof value !== "string" || value.length > MAX_AUDIENCE_LENGTH || !VISIBLE_ASCII.test(value)) {
    throw invalidInput(field, `must be 1-${MAX_AUDIENCE_LENGTH} visible ASCII characters`);
  }
  return value;
}

export function checkScopes(value: unknown, field: string): string[] {
  if (!Array.isArray(value)) throw invalidInput(field, "must be an array of scopes");
  const scopes: string[] = [];
  for (const [index, scope] of (value as unknown[]).entries()) {
    if (typeof scope !== "string" || scope.length > MAX_SCOPE_LENGTH || !SCOPE_TOKEN.test(scope)) {
      throw invalidInput(`${field}[${index}]`, "must be an RFC 6749 scope-token");
    }
    if (scopes.includes(scope)) throw invalidInput(`${field}[${index}]`, "is listed twice");
    scopes.push(scope);
  }
  return scopes;
}

export function checkJti(value: unknown, field: string): string {
  if (!isJti(value)) {
    throw invalidInput(field, `must be 1-${MAX_JTI_LENGTH} visible ASCII characters`);
  }
  return value;
}

export function checkEpochSec(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
    throw invalidInput(field, "must be a positive integer number of seconds since the epoch");
  }
  return value;
}

export function checkFamilyId(value: unknown): string {
  if (!isFamilyId(value)) throw invalidInput("familyId", "must be 16 bytes, base64url");
  return value;
}

export function checkHash(value: unknown, field: string): string {
  if (!isRefreshTokenHash(value)) throw invalidInput(field, "must be a refresh-token hash (hashRefreshToken)");
  return value;
}

export function checkRevision(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw invalidInput(field, "must be a non-negative integer");
  }
  return value;
}

/** A token still valid now and living no longer than the store can guarantee its revocation. */
export function checkRefreshExpiry(expiresAtSec: unknown, nowSec: number, field: string): number {
  const exp = checkEpochSec(expiresAtSec, field);
  if (exp <= nowSec) throw invalidInput(field, "is not in the future");
  if (exp - nowSec > MAX_REFRESH_TOKEN_LIFETIME_SEC) {
    throw invalidInput(field, `is more than ${MAX_REFRESH_TOKEN_LIFETIME_SEC} s away`);
  }
  return exp;
}

export function checkRefreshRecord(value: unknown, nowSec: number): RefreshTokenRecord {
  if (!isPlainObject(value)) throw invalidInput("record", "must be an object");
  const issuedAtSec = checkEpochSec(value.issuedAtSec, "record.issuedAtSec");
  const expiresAtSec = checkRefreshExpiry(value.expiresAtSec, nowSec, "record.expiresAtSec");
  if (expiresAtSec <= issuedAtSec) throw invalidInput("record.expiresAtSec", "must be after issuedAtSec");
  return {
    familyId: checkFamilyId(value.familyId),
    clientId: checkServiceId(value.clientId, "record.clientId"),
    audience: checkAudience(value.audience, "record.audience"),
    scopes: checkScopes(value.scopes, "record.scopes"),
    issuedAtSec,
    expiresAtSec,
  };
}

export function checkAccessTokenRef(value: unknown, field: string): AccessTokenRef {
  if (!isPlainObject(value)) throw invalidInput(field, "must be { jti, exp }");
  return { jti: checkJti(value.jti, `${field}.jti`), exp: checkEpochSec(value.exp, `${field}.exp`) };
}

export interface SaveRequest {
  readonly hash: string;
  readonly record: RefreshTokenRecord;
  readonly accessToken: AccessTokenRef | undefined;
}

export function checkSaveRequest(hash: unknown, record: unknown, accessToken: unknown, nowSec: number): SaveRequest {
  return {
    hash: checkHash(hash, "hash"),
    record: checkRefreshRecord(record, nowSec),
    accessToken: accessToken === undefined ? undefined : checkAccessTokenRef(accessToken, "accessToken"),
  };
}

export type RotateRequest = Required<Omit<RotateRefreshTokenInput, "accessToken">> & {
  readonly accessToken: AccessTokenRef | undefined;
};

export function checkRotateRequest(input: unknown, nowSec: number): RotateRequest {
  if (!isPlainObject(input)) throw invalidInput("input", "must be an object");
  const request = {
    familyId: checkFamilyId(input.familyId),
    oldHash: checkHash(input.oldHash, "oldHash"),
    newHash: checkHash(input.newHash, "newHash"),
    clientId: checkServiceId(input.clientId, "clientId"),
    expiresAtSec: checkRefreshExpiry(input.expiresAtSec, nowSec, "expiresAtSec"),
    accessToken: input.accessToken === undefined ? undefined : checkAccessTokenRef(input.accessToken, "accessToken"),
  };
  if (request.newHash === request.oldHash) throw invalidInput("newHash", "must differ from oldHash");
  return request;
}

/** The successor keeps what the family was granted; only its lifetime is new. */
export function successorRecord(previous: RefreshTokenRecord, expiresAtSec: number, nowSec: number): RefreshTokenRecord {
  return { ...previous, issuedAtSec: nowSec, expiresAtSec };
}

/**
 * The keyring is the issuer's business; the store only insists on what it would otherwise
 * store unfaithfully (non-JSON values) or what makes a keyring ambiguous (a repeated kid).
 */
export function checkSigningKeys(value: unknown): StoredSigningKey[] {
  if (!Array.isArray(value)) throw invalidInput("keys", "must be an array");
  const kids = new Set<string>();
  return (value as unknown[]).map((key, index) => {
    const field = `keys[${index}]`;
    if (!isPlainObject(key)) throw invalidInput(field, "must be an object");
    if (typeof key.kid !== "string" || key.kid === "") throw invalidInput(`${field}.kid`, "must be a non-empty string");
    if (kids.has(key.kid)) throw invalidInput(`${field}.kid`, "is used by another key");
    kids.add(key.kid);
    if (typeof key.alg !== "string") throw invalidInput(`${field}.alg`, "must be a string");
    if (!KEY_STATES.has(key.state)) throw invalidInput(`${field}.state`, "must be next, active or retired");
    if (typeof key.encryptedPrivateKey !== "string") {
      throw invalidInput(`${field}.encryptedPrivateKey`, "must be a string");
    }
    if (!isPlainObject(key.publicJwk)) throw invalidInput(`${field}.publicJwk`, "must be an object");
    for (const time of ["createdAtMs", "activatesAtMs", "retiredAtMs", "publishUntilMs"]) {
      const ms = key[time];
      if ((ms !== undefined || time === "createdAtMs") && (typeof ms !== "number" || !Number.isFinite(ms))) {
        throw invalidInput(`${field}.${time}`, "must be a number of milliseconds");
      }
    }
    const copy: unknown = JSON.parse(JSON.stringify(key));
    return copy as StoredSigningKey;
  });
}

/** Runs a decoder over stored data: a value this version could not have written is corrupt. */
export function decodeStored<T>(what: string, decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    const detail = error instanceof StoreError ? ` (${error.message})` : "";
    throw new StoreError("ERR_STORE_CORRUPT", `stored ${what} does not decode${detail}`);
  }
}

export function checkClock(now: unknown): () => number {
  if (now === undefined) return Date.now;
  if (typeof now !== "function") {
    throw new StoreError("ERR_STORE_OPTIONS", "now: must be a function returning epoch milliseconds", { field: "now" });
  }
  return now as () => number;
}

export function isServiceId(value: unknown): value is string {
  return typeof value === "string" && SERVICE_ID.test(value);
}

export function isJti(value: unknown): value is string {
  return typeof value === "string" && value.length <= MAX_JTI_LENGTH && VISIBLE_ASCII.test(value);
}
