/**
 * RFC 7523 `private_key_jwt` client authentication: a service proves who it is with a short JWT
 * signed by a key it registered. Shares the verifier's JWS rules (canonical form, strict JSON,
 * pinned algorithms, kid required, range-checked signatures) so that the issuer is no easier to
 * fool than any service.
 *
 * Every failure is an AssertionError whose `reason` is for the issuer's log only: the caller is
 * told one generic "unauthenticated", never which part failed.
 */
import { importJwk, parseStrictJsonObject, verifyCompactJws, type VerifiedJws } from "@trustmesh/verifier/internal";
import type { TrustedKey } from "@trustmesh/verifier";
import { isJti, isServiceId } from "../store/index.js";
import { ownMember } from "@trustmesh/verifier/internal";

export const ASSERTION_MAX_BYTES = 8192;
export const ASSERTION_MAX_LIFETIME_SEC = 60;
export const ASSERTION_CLOCK_TOLERANCE_SEC = 30;

/** An access token must never pass as an assertion, whatever else it carries. */
const ASSERTION_TYPES = new Set([undefined, "jwt", "client-authentication+jwt", "application/client-authentication+jwt"]);

export type AssertionFailure =
  | "malformed"
  | "unknown-service"
  | "disabled-service"
  | "bad-signature"
  | "bad-claims"
  | "expired"
  | "not-yet-valid"
  | "lifetime-too-long"
  | "replayed";

export class AssertionError extends Error {
  override readonly name = "AssertionError";
  readonly code = "ERR_CLIENT_AUTHENTICATION";
  readonly reason: AssertionFailure;

  constructor(reason: AssertionFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}

export interface AssertingService {
  readonly id: string;
  readonly status: "active" | "disabled";
  readonly keys: readonly Readonly<Record<string, unknown>>[];
}

export interface ClientAssertionOptions<S extends AssertingService = AssertingService> {
  /** The issuer's identifier: the only `aud` an assertion may carry. */
  readonly issuer: string;
  readonly findService: (id: string) => Promise<S | undefined>;
  /** True the first time a (service, jti) is seen, until `expiresAtSec`; false for a replay. */
  readonly consumeJti: (serviceId: string, jti: string, expiresAtSec: number) => Promise<boolean>;
  readonly now: () => number;
}

export interface AuthenticatedClient<S extends AssertingService = AssertingService> {
  readonly service: S;
  readonly jti: string;
  readonly kid: string;
}

export async function authenticateClient<S extends AssertingService>(assertion: string, options: ClientAssertionOptions<S>): Promise<AuthenticatedClient<S>> {
  if (typeof assertion !== "string" || assertion.length === 0 || assertion.length > ASSERTION_MAX_BYTES) {
    throw new AssertionError("malformed", "client assertion is missing or over the size limit");
  }
  // Which service's keys to try is read from the claims before they are verified; the same
  // bytes are then verified, and `iss` checked again, so a lie here only selects keys that fail.
  const claimedId = peekIssuer(assertion);
  const service = await options.findService(claimedId);
  if (service === undefined) throw new AssertionError("unknown-service", "client assertion names an unknown service");
  if (service.status !== "active") throw new AssertionError("disabled-service", "client assertion names a disabled service");

  let verified: VerifiedJws;
  try {
    verified = await verifyCompactJws(assertion, {
      algorithms: ALGORITHMS,
      acceptType: (typ) => ASSERTION_TYPES.has(typ),
      requireLowS: false,
      findKey: (kid) => registeredKey(service, kid),
    });
  } catch (cause) {
    throw new AssertionError("bad-signature", "client assertion does not verify under the service's registered keys", { cause });
  }

  const nowSec = options.now() / 1000;
  const aud = ownMember(verified.payload, "aud");
  const audience = Array.isArray(aud) && aud.length === 1 ? (aud[0] as unknown) : aud;
  if (ownMember(verified.payload, "iss") !== service.id || ownMember(verified.payload, "sub") !== service.id || audience !== options.issuer) {
    throw new AssertionError("bad-claims", "client assertion iss, sub or aud is wrong");
  }
  const jti = ownMember(verified.payload, "jti");
  const exp = ownMember(verified.payload, "exp");
  const iat = ownMember(verified.payload, "iat");
  const nbf = ownMember(verified.payload, "nbf");
  if (!isJti(jti) || !isNumericDate(exp) || !isNumericDate(iat) || (nbf !== undefined && !isNumericDate(nbf))) {
    throw new AssertionError("bad-claims", "client assertion jti, exp, iat or nbf is missing or malformed");
  }
  if (nowSec >= exp + ASSERTION_CLOCK_TOLERANCE_SEC) throw new AssertionError("expired", "client assertion has expired");
  if (iat > nowSec + ASSERTION_CLOCK_TOLERANCE_SEC || (typeof nbf === "number" && nbf > nowSec + ASSERTION_CLOCK_TOLERANCE_SEC)) {
    throw new AssertionError("not-yet-valid", "client assertion is not valid yet");
  }
  if (exp - iat > ASSERTION_MAX_LIFETIME_SEC || exp <= iat) {
    throw new AssertionError("lifetime-too-long", `client assertion lifetime must be at most ${ASSERTION_MAX_LIFETIME_SEC} s`);
  }
  // Consumed last, so that only an otherwise valid assertion can use up its jti.
  if (!(await options.consumeJti(service.id, jti, Math.ceil(exp + ASSERTION_CLOCK_TOLERANCE_SEC)))) {
    throw new AssertionError("replayed", "client assertion jti was already used");
  }
  return { service, jti, kid: verified.kid };
}

const ALGORITHMS = new Set(["EdDSA", "ES256"] as const);

function peekIssuer(assertion: string): string {
  const [, payload] = assertion.split(".");
  const claims = payload === undefined ? undefined : parseStrictJsonObject(Buffer.from(payload, "base64url"));
  const iss = claims === undefined ? undefined : ownMember(claims, "iss");
  // Outside the store's id syntax nothing can be registered: refused unread, as unknown is.
  if (!isServiceId(iss)) {
    throw new AssertionError("malformed", "client assertion has no usable iss");
  }
  return iss;
}

/** Imported per call: a service has at most two keys, and registration may change them at any time. */
function registeredKey(service: AssertingService, kid: string): TrustedKey {
  for (const jwk of service.keys) {
    if (jwk["kid"] !== kid) continue;
    const imported = importJwk(jwk);
    if ("key" in imported) return imported.key;
  }
  throw new AssertionError("bad-signature", "no registered key of the service has this kid");
}

function isNumericDate(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}
