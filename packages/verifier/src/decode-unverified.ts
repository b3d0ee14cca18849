/**
 * Reads a token's header and claims WITHOUT verifying anything. For tools that show a person what
 * a token says (trustctl token inspect); never for deciding whether to trust it. Production code
 * imports `@trustmesh/verifier`, which has no export of this.
 */
import { decodeBase64url, isCanonicalBase64url } from "./lib/base64url.js";
import { parseStrictJsonObject } from "./lib/strict-json.js";
import { DEFAULT_MAX_TOKEN_BYTES } from "./options.js";

export interface UnverifiedToken {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
}

/** Undefined when the text is not a compact JWS with JSON object header and payload. */
export function decodeUnverified(token: string): UnverifiedToken | undefined {
  if (token.length > DEFAULT_MAX_TOKEN_BYTES) return undefined;
  const segments = token.split(".");
  if (segments.length !== 3) return undefined;
  const [header, payload] = segments as [string, string, string];
  if (!isCanonicalBase64url(header, 0, header.length) || !isCanonicalBase64url(payload, 0, payload.length)) return undefined;
  const decodedHeader = parseStrictJsonObject(decodeBase64url(header));
  const decodedPayload = parseStrictJsonObject(decodeBase64url(payload));
  if (decodedHeader === undefined || decodedPayload === undefined) return undefined;
  return { header: decodedHeader, payload: decodedPayload };
}
