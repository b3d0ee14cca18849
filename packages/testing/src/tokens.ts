/**
 * Token factories. `mintTestToken` signs through jose, as a real issuer would; `signRawToken`
 * signs whatever header and payload text it is given, for the malformed and hostile tokens that
 * jose would refuse to produce.
 */
import { randomBytes, sign } from "node:crypto";
import { SignJWT } from "jose";
import type { TestSigningKey } from "./keys.js";
import { lowS, withLowS } from "./low-s.js";

export const TEST_ISSUER = "https://issuer.trustmesh.test";
export const TEST_AUDIENCE = "payments";
export const TEST_SUBJECT = "orders";
/** A fixed instant (2026-01-01T00:00:00Z) for tests that freeze the clock. */
export const TEST_NOW_SEC = 1_767_225_600;

export interface TestTokenOptions {
  /** Claims to add or replace; a value of `undefined` removes the claim. */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** Header parameters to add or replace; `undefined` removes one. */
  readonly header?: Readonly<Record<string, unknown>>;
  readonly nowSec?: number;
  readonly lifetimeSec?: number;
}

export function newJti(): string {
  return randomBytes(16).toString("base64url");
}

/** The claims of a valid token by the profile, at `nowSec`. */
export function profileClaims(options: Pick<TestTokenOptions, "nowSec" | "lifetimeSec"> = {}): Record<string, unknown> {
  const now = options.nowSec ?? Math.floor(Date.now() / 1000);
  return {
    iss: TEST_ISSUER,
    sub: TEST_SUBJECT,
    client_id: TEST_SUBJECT,
    aud: TEST_AUDIENCE,
    iat: now,
    nbf: now,
    exp: now + (options.lifetimeSec ?? 600),
    jti: newJti(),
    scope: "payments:charge payments:refund",
    tenant_id: "acme",
  };
}

export function withChanges(base: Record<string, unknown>, changes: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [name, value] of Object.entries(changes ?? {})) {
    if (value === undefined) Reflect.deleteProperty(out, name);
    else out[name] = value;
  }
  return out;
}

export async function mintTestToken(key: TestSigningKey, options: TestTokenOptions = {}): Promise<string> {
  const claims = withChanges(profileClaims(options), options.claims);
  const header = withChanges({ alg: key.alg, kid: key.kid, typ: "at+jwt" }, options.header);
  const token = await new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(key.privateKey);
  return key.alg === "ES256" ? withLowS(token) : token;
}

/** Signs `header.payload` exactly as given (JSON text or objects), bypassing every library check. */
export function signRawToken(key: TestSigningKey, header: string | object, payload: string | object): string {
  const encode = (part: string | object): string =>
    Buffer.from(typeof part === "string" ? part : JSON.stringify(part)).toString("base64url");
  const signingInput = `${encode(header)}.${encode(payload)}`;
  const signature =
    key.alg === "EdDSA"
      ? sign(null, Buffer.from(signingInput), key.privateKey)
      : lowS(sign("sha256", Buffer.from(signingInput), { key: key.privateKey, dsaEncoding: "ieee-p1363" }));
  return `${signingInput}.${signature.toString("base64url")}`;
}

/** The header a valid token of `key` carries. */
export function profileHeader(key: TestSigningKey): Record<string, unknown> {
  return { alg: key.alg, kid: key.kid, typ: "at+jwt" };
}

export interface TestAssertionOptions {
  /** The service the assertion speaks for: its `iss` and `sub`. */
  readonly serviceId: string;
  /** The issuer's identifier: the assertion's `aud`. */
  readonly issuer?: string;
  readonly nowSec?: number;
  readonly lifetimeSec?: number;
  readonly claims?: Readonly<Record<string, unknown>>;
}

/** An RFC 7523 client assertion as a service would sign it to ask the issuer for a token. */
export async function mintClientAssertion(key: TestSigningKey, options: TestAssertionOptions): Promise<string> {
  const now = options.nowSec ?? Math.floor(Date.now() / 1000);
  const claims = withChanges(
    { iss: options.serviceId, sub: options.serviceId, aud: options.issuer ?? TEST_ISSUER, iat: now, exp: now + (options.lifetimeSec ?? 30), jti: newJti() },
    options.claims,
  );
  const token = await new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT" }).sign(key.privateKey);
  return key.alg === "ES256" ? withLowS(token) : token;
}
