/**
 * Signature checks on node:crypto directly: the hot path pays for the curve arithmetic and little
 * else. Each algorithm also refuses what OpenSSL would tolerate or what other verifiers have got
 * wrong: a wrong-length signature, ECDSA r or s outside [1, n-1] (the "psychic signature" class,
 * CVE-2022-21449), an ECDSA s above n/2, and an Ed25519 S at or above the group order.
 *
 * The last two close signature malleability: (r, n - s) is as valid as (r, s), and S + L as S,
 * so without them one signed token has a second spelling that also verifies. trustmesh's issuer
 * signs ES256 with low s (as BIP 62 does for Bitcoin), so for its tokens only that half counts.
 */
import { verify as cryptoVerify } from "node:crypto";
import type { TrustedKey } from "../types.js";

const SIGNATURE_BYTES = 64;

/** P-256 group order n, big-endian. */
const P256_ORDER = Buffer.from("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551", "hex");
/** floor(n / 2): the largest s of a low-s signature. */
const P256_HALF_ORDER = Buffer.from("7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8", "hex");

/** Ed25519 group order L, little-endian as S is encoded. */
const ED25519_ORDER_LE = Buffer.from("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010", "hex");

/**
 * `lowS` refuses the high-s half of ES256 signatures. On for access tokens, which trustmesh's
 * issuer signs; off for client assertions, which any client library signs (their replay is
 * stopped by the single-use jti, not by the spelling).
 */
export function verifySignature(key: TrustedKey, signingInput: Buffer, signature: Buffer, lowS: boolean): boolean {
  if (signature.length !== SIGNATURE_BYTES) return false;
  try {
    if (key.alg === "EdDSA") {
      return isBelowLittleEndian(signature, 32, ED25519_ORDER_LE) && cryptoVerify(null, signingInput, key.key, signature);
    }
    return (
      isScalarInRange(signature, 0, P256_ORDER, false) &&
      (lowS ? isScalarInRange(signature, 32, P256_HALF_ORDER, true) : isScalarInRange(signature, 32, P256_ORDER, false)) &&
      cryptoVerify("sha256", signingInput, { key: key.key, dsaEncoding: "ieee-p1363" }, signature)
    );
  } catch {
    return false;
  }
}

/** 0 < value < bound (or <= bound) for the 32-byte big-endian scalar at `offset`. */
function isScalarInRange(signature: Buffer, offset: number, bound: Buffer, inclusive: boolean): boolean {
  let nonZero = false;
  for (let i = 0; i < 32; i++) {
    if (signature[offset + i] !== 0) {
      nonZero = true;
      break;
    }
  }
  const order = signature.compare(bound, 0, 32, offset, offset + 32);
  return nonZero && (order < 0 || (inclusive && order === 0));
}

/** value < bound for the 32-byte little-endian integer at `offset`. */
function isBelowLittleEndian(bytes: Buffer, offset: number, bound: Buffer): boolean {
  for (let i = 31; i >= 0; i--) {
    const a = bytes[offset + i] as number;
    const b = bound[i] as number;
    if (a !== b) return a < b;
  }
  return false;
}

const P256_ORDER_INT = BigInt(`0x${P256_ORDER.toString("hex")}`);

/** The low-s form of a P1363 ES256 signature, the one `verifySignature` accepts. For signers. */
export function toLowS(signature: Buffer): Buffer {
  if (signature.length !== SIGNATURE_BYTES || isScalarInRange(signature, 32, P256_HALF_ORDER, true)) return signature;
  const s = P256_ORDER_INT - BigInt(`0x${signature.subarray(32).toString("hex")}`);
  return Buffer.concat([signature.subarray(0, 32), Buffer.from(s.toString(16).padStart(64, "0"), "hex")]);
}
