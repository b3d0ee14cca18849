/**
 * JWKs are validated once, when a key set is loaded, so the per-call path can trust what it finds.
 * A key is refused when it is anything but an Ed25519 or P-256 public signing key: private
 * members, symmetric keys (the HS256 key-confusion class), other curves, a `use`/`key_ops`/`alg`
 * that contradicts signing with it, a non-canonical coordinate, a point off the curve, or an
 * Ed25519 point of small order (which lets forged signatures verify).
 */
import { createPublicKey } from "node:crypto";
import type { Algorithm, JsonWebKey, TrustedKey } from "../types.js";
import { decodeCanonicalBase64url } from "./base64url.js";
import { ownMember } from "./own-member.js";

export const MAX_KID_LENGTH = 256;

export type ImportResult = { readonly key: TrustedKey } | { readonly rejected: string };

const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "k", "oth"];

export function importJwk(jwk: JsonWebKey): ImportResult {
  const kid = ownMember(jwk, "kid");
  if (typeof kid !== "string" || kid.length === 0 || kid.length > MAX_KID_LENGTH) {
    return { rejected: "kid missing or not a usable string" };
  }
  if (PRIVATE_MEMBERS.some((name) => Object.hasOwn(jwk, name))) return { rejected: "private or symmetric key material" };
  const use = ownMember(jwk, "use");
  if (use !== undefined && use !== "sig") return { rejected: "use is not sig" };
  const keyOps = ownMember(jwk, "key_ops");
  if (keyOps !== undefined && !(Array.isArray(keyOps) && keyOps.includes("verify"))) {
    return { rejected: "key_ops does not allow verify" };
  }

  const kty = ownMember(jwk, "kty");
  const crv = ownMember(jwk, "crv");
  let alg: Algorithm;
  let publicJwk: Record<string, string>;
  if (kty === "OKP" && crv === "Ed25519") {
    alg = "EdDSA";
    const x = decodeCanonicalBase64url(ownMember(jwk, "x"));
    if (x?.length !== 32) return { rejected: "Ed25519 x is not 32 canonical bytes" };
    if (!isCanonicalEd25519Point(x)) return { rejected: "Ed25519 point is not canonically encoded" };
    if (isSmallOrderEd25519Point(x)) return { rejected: "Ed25519 point of small order" };
    publicJwk = { kty, crv, x: ownMember(jwk, "x") as string };
  } else if (kty === "EC" && crv === "P-256") {
    alg = "ES256";
    const x = decodeCanonicalBase64url(ownMember(jwk, "x"));
    const y = decodeCanonicalBase64url(ownMember(jwk, "y"));
    if (x?.length !== 32 || y?.length !== 32) return { rejected: "P-256 coordinates are not 32 canonical bytes" };
    publicJwk = { kty, crv, x: ownMember(jwk, "x") as string, y: ownMember(jwk, "y") as string };
  } else {
    return { rejected: "unsupported key type (only OKP/Ed25519 and EC/P-256 sign tokens)" };
  }
  const declaredAlg = ownMember(jwk, "alg");
  if (declaredAlg !== undefined && declaredAlg !== alg) return { rejected: "alg does not match the key type" };

  try {
    // createPublicKey refuses a P-256 point that is not on the curve.
    const key = createPublicKey({ key: publicJwk, format: "jwk" });
    const fingerprint = `${alg}:${publicJwk["x"] ?? ""}:${publicJwk["y"] ?? ""}`;
    return { key: Object.freeze({ kid, alg, key, fingerprint }) };
  } catch {
    return { rejected: "key material is not a valid public key" };
  }
}

/** y must be below p = 2^255 - 19; the top bit is the sign of x and does not count. */
function isCanonicalEd25519Point(encoded: Buffer): boolean {
  if (((encoded[31] as number) & 0x7f) !== 0x7f) return true;
  for (let i = 30; i > 0; i--) if (encoded[i] !== 0xff) return true;
  return (encoded[0] as number) < 0xed;
}

/**
 * The canonical encodings of the points of order 1, 2, 4 and 8 (libsodium's blocklist), compared with
 * the sign bit masked so that both signs of each are caught.
 */
const SMALL_ORDER_POINTS = [
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0100000000000000000000000000000000000000000000000000000000000000",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
].map((hex) => Buffer.from(hex, "hex"));

function isSmallOrderEd25519Point(encoded: Buffer): boolean {
  const masked = Buffer.from(encoded);
  masked[31] = (masked[31] as number) & 0x7f;
  return SMALL_ORDER_POINTS.some((point) => point.equals(masked));
}
