/**
 * The explanation `token inspect` prints: one line per check of the profile, each computed on
 * its own so a person sees every problem at once, not just the first. It decides nothing: the
 * verdict printed under it comes from @trustmesh/verifier, which stops at the first failure.
 */
import { DEFAULT_CLOCK_TOLERANCE_SEC, DEFAULT_MAX_TOKEN_BYTES, DEFAULT_MAX_TOKEN_LIFETIME_SEC, VerifyError, type TrustedKey } from "@trustmesh/verifier";
import { verifyCompactJws } from "@trustmesh/verifier/internal";
import type { UnverifiedToken } from "@trustmesh/verifier/unverified";
import { isoTime } from "./output.js";

export type CheckOutcome = "pass" | "fail" | "skip";

export interface Check {
  readonly name: string;
  readonly outcome: CheckOutcome;
  readonly detail: string;
}

export interface ExplainInput {
  readonly token: string;
  readonly decoded: UnverifiedToken | undefined;
  readonly issuer: string;
  readonly audience: string;
  /** True when `audience` was read from the token itself rather than given with --audience. */
  readonly audienceFromToken: boolean;
  readonly nowSec: number;
  /** The trusted key for a kid, from the JWKS already fetched; undefined when it has none. */
  readonly key: (kid: string) => TrustedKey | undefined;
  /** Why no key set is loaded, when none is. */
  readonly keysUnavailable: string | undefined;
}

export const CHECK_NAMES = ["format", "typ", "alg", "kid known", "signature", "iss", "aud", "exp", "nbf", "iat", "lifetime", "required claims"] as const;

const ACCESS_TOKEN_TYPES = new Set(["at+jwt", "application/at+jwt"]);
const ALGORITHMS = new Set(["EdDSA", "ES256"] as const);
const IDENTIFIER_MAX = 256;
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]+(?: [\x21\x23-\x5b\x5d-\x7e]+)*$/;

export async function explainChecks(input: ExplainInput): Promise<Check[]> {
  const { decoded } = input;
  if (input.token.length > DEFAULT_MAX_TOKEN_BYTES || decoded === undefined) {
    const why = input.token.length > DEFAULT_MAX_TOKEN_BYTES ? `over ${DEFAULT_MAX_TOKEN_BYTES} bytes` : "not a compact JWS with a JSON object header and claims";
    return [check("format", false, why), ...CHECK_NAMES.slice(1).map((name) => skip(name, "not checked: the token cannot be read"))];
  }
  const { header, payload } = decoded;
  const claim = (name: string): unknown => (Object.hasOwn(payload, name) ? payload[name] : undefined);
  const typ = Object.hasOwn(header, "typ") ? header["typ"] : undefined;
  const alg = Object.hasOwn(header, "alg") ? header["alg"] : undefined;
  const kid = Object.hasOwn(header, "kid") ? header["kid"] : undefined;
  const key = typeof kid === "string" && kid !== "" ? input.key(kid) : undefined;
  const tolerance = DEFAULT_CLOCK_TOLERANCE_SEC;
  const exp = claim("exp");
  const nbf = claim("nbf");
  const iat = claim("iat");

  return [
    check("format", true, Object.hasOwn(header, "crit") ? "compact JWS, but the header carries crit, which is refused" : "compact JWS; header and claims are JSON objects"),
    check("typ", typeof typ === "string" && ACCESS_TOKEN_TYPES.has(typ.toLowerCase()), `${show(typ)}${typeof typ === "string" && ACCESS_TOKEN_TYPES.has(typ.toLowerCase()) ? "" : ", must be at+jwt"}`),
    algCheck(alg, key),
    kidCheck(kid, key, input.keysUnavailable),
    await signatureCheck(input.token, key),
    check("iss", claim("iss") === input.issuer, claim("iss") === input.issuer ? input.issuer : `${show(claim("iss"))}, expected ${input.issuer}`),
    audCheck(claim("aud"), input.audience, input.audienceFromToken),
    timeCheck("exp", exp, (value) => input.nowSec < value + tolerance, (value) => relative(value, input.nowSec)),
    timeCheck("nbf", nbf, (value) => value <= input.nowSec + tolerance, (value) => relative(value, input.nowSec)),
    timeCheck("iat", iat, (value) => value <= input.nowSec + tolerance, (value) => relative(value, input.nowSec)),
    lifetimeCheck(exp, iat, nbf),
    requiredClaimsCheck(claim),
  ];
}

function check(name: string, ok: boolean, detail: string): Check {
  return { name, outcome: ok ? "pass" : "fail", detail };
}

function skip(name: string, detail: string): Check {
  return { name, outcome: "skip", detail };
}

function show(value: unknown): string {
  if (value === undefined) return "missing";
  return (typeof value === "string" ? value : JSON.stringify(value)).slice(0, 120);
}

function algCheck(alg: unknown, key: TrustedKey | undefined): Check {
  if (typeof alg !== "string" || !ALGORITHMS.has(alg as "EdDSA")) return check("alg", false, `${show(alg)}, must be EdDSA or ES256`);
  if (key !== undefined && key.alg !== alg) return check("alg", false, `${alg}, but the key named by kid is ${key.alg}`);
  return check("alg", true, key === undefined ? alg : `${alg}, the algorithm of its key`);
}

function kidCheck(kid: unknown, key: TrustedKey | undefined, keysUnavailable: string | undefined): Check {
  if (typeof kid !== "string" || kid === "") return check("kid known", false, "the header has no kid");
  if (keysUnavailable !== undefined) return skip("kid known", `not checked: ${keysUnavailable}`);
  return check("kid known", key !== undefined, key === undefined ? `${kid.slice(0, 100)} is not in the issuer's JWKS` : `${kid} is in the issuer's JWKS`);
}

/** The verifier's own JWS code, with only the key pinned, so "signature" means what it means there. */
async function signatureCheck(token: string, key: TrustedKey | undefined): Promise<Check> {
  if (key === undefined) return skip("signature", "not checked: no trusted key for this kid");
  try {
    await verifyCompactJws(token, { algorithms: ALGORITHMS, acceptType: () => true, requireLowS: true, findKey: () => key });
    return check("signature", true, `verifies with ${key.kid}`);
  } catch (error) {
    if (error instanceof VerifyError && error.code === "ERR_ALG_NOT_ALLOWED") return skip("signature", "not checked: alg is not the key's");
    return check("signature", false, error instanceof VerifyError && error.code !== "ERR_SIGNATURE_INVALID" ? error.message : "does not verify: the token was altered or signed by another key");
  }
}

function audCheck(aud: unknown, audience: string, fromToken: boolean): Check {
  const single = typeof aud === "string" ? aud : Array.isArray(aud) && aud.length === 1 && typeof aud[0] === "string" ? aud[0] : undefined;
  if (single === undefined) return check("aud", false, `${show(aud)}, must be exactly one audience`);
  if (fromToken) return check("aud", true, `${single} (one audience; pass --audience to check it is yours)`);
  return check("aud", single === audience, single === audience ? single : `${single}, expected ${audience}`);
}

function timeCheck(name: string, value: unknown, ok: (value: number) => boolean, describe: (value: number) => string): Check {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) return check(name, false, `${show(value)}, must be a NumericDate`);
  return check(name, ok(value), `${isoTime(value * 1000)} (${describe(value)})`);
}

function relative(value: number, nowSec: number): string {
  const delta = Math.round(value - nowSec);
  return delta > 0 ? `in ${delta} s` : `${-delta} s ago`;
}

function lifetimeCheck(exp: unknown, iat: unknown, nbf: unknown): Check {
  if (typeof exp !== "number" || typeof iat !== "number") return skip("lifetime", "not checked: exp or iat is unusable");
  const lifetime = exp - iat;
  if (lifetime <= 0 || (typeof nbf === "number" && exp <= nbf)) return check("lifetime", false, "exp is not after iat and nbf");
  return check("lifetime", lifetime <= DEFAULT_MAX_TOKEN_LIFETIME_SEC, `${lifetime} s (at most ${DEFAULT_MAX_TOKEN_LIFETIME_SEC})`);
}

function requiredClaimsCheck(claim: (name: string) => unknown): Check {
  const problems: string[] = [];
  for (const name of ["sub", "client_id", "jti"]) {
    const value = claim(name);
    if (typeof value !== "string" || value === "" || value.length > IDENTIFIER_MAX) problems.push(`${name} missing or malformed`);
  }
  if (problems.length === 0 && claim("client_id") !== claim("sub")) problems.push("client_id is not sub");
  const scope = claim("scope");
  if (scope !== undefined && (typeof scope !== "string" || (scope !== "" && !SCOPE.test(scope)))) problems.push("scope malformed");
  const tenant = claim("tenant_id");
  if (tenant !== undefined && (typeof tenant !== "string" || tenant === "" || tenant.length > IDENTIFIER_MAX)) problems.push("tenant_id malformed");
  return check("required claims", problems.length === 0, problems.length === 0 ? "sub, client_id (= sub), jti present; scope and tenant_id well-formed" : problems.join("; "));
}
