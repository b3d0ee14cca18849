/**
 * ES256 signatures as trustmesh's issuer makes them: with s in the low half of the group order,
 * the only spelling the verifier accepts. (The issuer has its own copy: this package is for
 * tests and may not be a dependency of production code.)
 */
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

export function lowS(signature: Buffer): Buffer {
  const s = BigInt(`0x${signature.subarray(32).toString("hex")}`);
  if (signature.length !== 64 || s <= P256_ORDER / 2n) return signature;
  return Buffer.concat([signature.subarray(0, 32), Buffer.from((P256_ORDER - s).toString(16).padStart(64, "0"), "hex")]);
}

/** A compact JWS with its ES256 signature moved to low s; other tokens are returned unchanged. */
export function withLowS(token: string): string {
  const end = token.lastIndexOf(".");
  const signature = Buffer.from(token.slice(end + 1), "base64url");
  return `${token.slice(0, end + 1)}${lowS(signature).toString("base64url")}`;
}
