import { randomBytes } from "node:crypto";
import { SignJWT } from "jose";
import type { SigningIdentity } from "./key-files.js";

/** Short of the issuer's 60 s maximum, so a little clock skew does not make it too long. */
const ASSERTION_LIFETIME_SEC = 30;

/**
 * An RFC 7523 client assertion (`private_key_jwt`): iss = sub = the service, aud = the issuer,
 * a single-use 128-bit jti. This is how every trustctl call proves who it speaks for.
 */
export async function signClientAssertion(identity: SigningIdentity, nowMs: number = Date.now()): Promise<string> {
  const now = Math.floor(nowMs / 1000);
  return new SignJWT({ jti: randomBytes(16).toString("base64url") })
    .setProtectedHeader({ alg: "EdDSA", kid: identity.kid, typ: "JWT" })
    .setIssuer(identity.serviceId)
    .setSubject(identity.serviceId)
    .setAudience(identity.issuer)
    .setIssuedAt(now)
    .setExpirationTime(now + ASSERTION_LIFETIME_SEC)
    .sign(identity.key);
}
