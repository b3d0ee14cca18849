/**
 * `@trustmesh/verifier/internal`: the building blocks the issuer reuses to check client
 * assertions with the same JWS rules as access tokens. Not a public API; no stability promise.
 */
export { verifyCompactJws, type CompactJwsRules, type VerifiedJws } from "./lib/compact-jws.js";
export { importJwk, type ImportResult } from "./lib/import-jwk.js";
export { parseStrictJsonObject } from "./lib/strict-json.js";
export { toLowS } from "./lib/signature.js";
export { buildKeyMap, type KeyMap } from "./lib/key-set.js";
export { ownMember } from "./lib/own-member.js";
