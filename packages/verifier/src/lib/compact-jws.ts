/**
 * The JWS half of verification, shared by the access-token engine and by the issuer's check of
 * client assertions: canonical compact form, strict JSON, `crit` refused, `typ` as the caller
 * pins it, `alg` allowed and equal to the selected key's, `kid` required, then the signature.
 * The payload is parsed only after the signature verifies.
 */
import { VerifyError } from "../errors.js";
import type { Algorithm, TrustedKey } from "../types.js";
import { decodeBase64url, isCanonicalBase64url } from "./base64url.js";
import { MAX_KID_LENGTH } from "./import-jwk.js";
import { verifySignature } from "./signature.js";
import { parseStrictJsonObject } from "./strict-json.js";
import { ownMember } from "./own-member.js";

export interface CompactJwsRules {
  readonly algorithms: ReadonlySet<Algorithm>;
  /** True when the lower-cased `typ` (undefined when absent) is acceptable. */
  readonly acceptType: (typ: string | undefined) => boolean;
  /** Refuse high-s ES256 signatures: for tokens whose signer is known to sign low-s. */
  readonly requireLowS: boolean;
  /** The trusted key for `kid`; rejects with a VerifyError when there is none. */
  readonly findKey: (kid: string) => TrustedKey | Promise<TrustedKey>;
}

export interface VerifiedJws {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly kid: string;
  readonly key: TrustedKey;
}

/** Assumes the caller has already applied its size limit. */
export async function verifyCompactJws(token: string, rules: CompactJwsRules): Promise<VerifiedJws> {
  const headerEnd = token.indexOf(".");
  const payloadEnd = headerEnd < 0 ? -1 : token.indexOf(".", headerEnd + 1);
  if (payloadEnd < 0 || token.indexOf(".", payloadEnd + 1) >= 0) throw malformed();
  if (
    !isCanonicalBase64url(token, 0, headerEnd) ||
    !isCanonicalBase64url(token, headerEnd + 1, payloadEnd) ||
    !isCanonicalBase64url(token, payloadEnd + 1, token.length)
  ) {
    throw malformed();
  }

  const header = parseStrictJsonObject(decodeBase64url(token.slice(0, headerEnd)));
  if (header === undefined) throw malformed();
  if (Object.hasOwn(header, "crit")) throw headerInvalid("crit", "token header carries crit, which is not supported");
  const typ = ownMember(header, "typ");
  if ((typ !== undefined && typeof typ !== "string") || !rules.acceptType(typ?.toLowerCase())) {
    throw headerInvalid("typ", "token type is not the one expected");
  }
  const alg = ownMember(header, "alg");
  if (typeof alg !== "string" || !rules.algorithms.has(alg as Algorithm)) {
    throw new VerifyError("ERR_ALG_NOT_ALLOWED", "token algorithm is not allowed");
  }
  const kid = ownMember(header, "kid");
  if (typeof kid !== "string" || kid.length === 0 || kid.length > MAX_KID_LENGTH) {
    throw headerInvalid("kid", "token header has no usable kid");
  }

  const key = await rules.findKey(kid);
  if (key.alg !== alg) throw new VerifyError("ERR_ALG_NOT_ALLOWED", "token algorithm is not the algorithm of its key");
  const signingInput = Buffer.from(token.slice(0, payloadEnd), "latin1");
  if (!verifySignature(key, signingInput, decodeBase64url(token.slice(payloadEnd + 1)), rules.requireLowS)) {
    throw new VerifyError("ERR_SIGNATURE_INVALID", "token signature is invalid");
  }

  const payload = parseStrictJsonObject(decodeBase64url(token.slice(headerEnd + 1, payloadEnd)));
  if (payload === undefined) throw malformed();
  return { header, payload, kid, key };
}

export function malformed(): VerifyError {
  return new VerifyError("ERR_TOKEN_MALFORMED", "token is not a well-formed compact JWS");
}

function headerInvalid(claim: string, message: string): VerifyError {
  return new VerifyError("ERR_HEADER_INVALID", message, { claim });
}
