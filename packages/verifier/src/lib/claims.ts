/**
 * The claim set of a service access token, checked against the profile. Runs only on a payload
 * whose signature has verified, so claim-level errors are never an oracle for forged input.
 */
import { VerifyError } from "../errors.js";
import type { ResolvedOptions } from "../options.js";
import type { ServiceClaims } from "../types.js";
import { ownMember } from "./own-member.js";

/** Bounds the identifiers a token can make us store (cache keys, denylist entries, log fields). */
export const MAX_IDENTIFIER_LENGTH = 256;

/** RFC 6749 §3.3: scope tokens of NQCHAR (%x21 / %x23-5B / %x5D-7E), separated by single spaces. */
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]+(?: [\x21\x23-\x5b\x5d-\x7e]+)*$/;

export function readClaims(payload: Readonly<Record<string, unknown>>, kid: string, options: ResolvedOptions, nowSec: number): ServiceClaims {

  const iss = ownMember(payload, "iss");
  if (typeof iss !== "string") throw invalid("iss");
  if (iss !== options.issuer) throw new VerifyError("ERR_ISSUER_MISMATCH", "token issuer is not the trusted issuer");

  const aud = readAudience(ownMember(payload, "aud"));
  if (aud !== options.audience) throw new VerifyError("ERR_AUDIENCE_MISMATCH", "token is not for this audience");

  const exp = readNumericDate(ownMember(payload, "exp"), "exp");
  const iat = readNumericDate(ownMember(payload, "iat"), "iat");
  const nbf = readNumericDate(ownMember(payload, "nbf"), "nbf");
  const tolerance = options.clockToleranceSec;
  if (nowSec >= exp + tolerance) throw new VerifyError("ERR_TOKEN_EXPIRED", "token has expired");
  if (nbf > nowSec + tolerance) throw new VerifyError("ERR_TOKEN_NOT_YET_VALID", "token is not valid yet", { claim: "nbf" });
  if (iat > nowSec + tolerance) throw new VerifyError("ERR_TOKEN_NOT_YET_VALID", "token was issued in the future", { claim: "iat" });
  if (exp <= iat || exp <= nbf) throw invalid("exp");
  if (exp - iat > options.maxTokenLifetimeSec) {
    throw new VerifyError("ERR_TOKEN_LIFETIME_EXCEEDED", "token lifetime exceeds the maximum");
  }

  const sub = readIdentifier(ownMember(payload, "sub"), "sub");
  const clientId = readIdentifier(ownMember(payload, "client_id"), "client_id");
  if (clientId !== sub) throw invalid("client_id");
  const jti = readIdentifier(ownMember(payload, "jti"), "jti");

  const scope = ownMember(payload, "scope");
  if (scope !== undefined && (typeof scope !== "string" || (scope !== "" && !SCOPE.test(scope)))) throw invalid("scope");
  const tenantId = ownMember(payload, "tenant_id");
  if (tenantId !== undefined && (typeof tenantId !== "string" || tenantId.length === 0 || tenantId.length > MAX_IDENTIFIER_LENGTH)) {
    throw invalid("tenant_id");
  }

  return Object.freeze({
    iss,
    sub,
    clientId,
    aud,
    scopes: Object.freeze(scope === undefined || scope === "" ? [] : scope.split(" ")),
    tenantId,
    jti,
    iat,
    nbf,
    exp,
    kid,
  });
}

function invalid(claim: string): VerifyError {
  return new VerifyError("ERR_CLAIM_INVALID", `claim ${claim} is missing or invalid`, { claim });
}

/** A string, or an array of exactly one string; several audiences are refused as a mismatch. */
function readAudience(aud: unknown): string {
  if (typeof aud === "string") return aud;
  if (Array.isArray(aud)) {
    if (aud.length === 1 && typeof aud[0] === "string") return aud[0];
    if (aud.length > 1) throw new VerifyError("ERR_AUDIENCE_MISMATCH", "token names more than one audience");
  }
  throw invalid("aud");
}

function readNumericDate(value: unknown, claim: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) throw invalid(claim);
  return value;
}

function readIdentifier(value: unknown, claim: string): string {
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_IDENTIFIER_LENGTH) throw invalid(claim);
  return value;
}
