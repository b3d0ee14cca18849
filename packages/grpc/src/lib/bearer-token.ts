import type { Metadata } from "@grpc/grpc-js";
import type { AuthFailureCode } from "../auth-failure-status.js";

export type BearerToken = { readonly ok: true; readonly token: string } | { readonly ok: false; readonly code: AuthFailureCode };

/** RFC 6750 §2.1 b64token: what a JWT is made of, and nothing that could smuggle a second value. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** The token of the one `authorization: Bearer <token>` value, or why there is none. */
export function readBearerToken(metadata: Metadata): BearerToken {
  const values = metadata.get("authorization");
  if (values.length === 0) return { ok: false, code: "ERR_TOKEN_MISSING" };
  if (values.length > 1) return { ok: false, code: "ERR_AUTHORIZATION_DUPLICATE" };
  const value = values[0];
  if (typeof value !== "string") return { ok: false, code: "ERR_AUTHORIZATION_MALFORMED" };
  const space = value.indexOf(" ");
  if (space === -1) return { ok: false, code: "ERR_AUTHORIZATION_MALFORMED" };
  if (value.slice(0, space).toLowerCase() !== "bearer") return { ok: false, code: "ERR_AUTHORIZATION_SCHEME" };
  const token = value.slice(space + 1);
  return { ok: true, token };
}

/**
 * Whether a token the verifier refused was not even a b64token. Checked only then: a token the
 * verifier accepts is canonical base64url segments joined by dots, which every b64token admits.
 */
export function isMalformedBearer(token: string): boolean {
  return !B64TOKEN.test(token);
}
