/**
 * Signing keys for tests, shaped as the issuer's are: `kid` is the RFC 7638 thumbprint and the
 * public JWK names its `alg` and `use`.
 */
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { calculateJwkThumbprint, type JWK } from "jose";

export type TestAlgorithm = "EdDSA" | "ES256";

export interface TestSigningKey {
  readonly kid: string;
  readonly alg: TestAlgorithm;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly publicJwk: JWK & { kid: string; alg: TestAlgorithm; use: "sig" };
}

export async function generateTestKey(alg: TestAlgorithm = "EdDSA"): Promise<TestSigningKey> {
  const { privateKey, publicKey } =
    alg === "EdDSA" ? generateKeyPairSync("ed25519") : generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = publicKey.export({ format: "jwk" }) as JWK;
  const kid = await calculateJwkThumbprint(jwk, "sha256");
  return { kid, alg, privateKey, publicKey, publicJwk: { ...jwk, kid, alg, use: "sig" } };
}

export function jwksOf(...keys: readonly TestSigningKey[]): { keys: TestSigningKey["publicJwk"][] } {
  return { keys: keys.map((key) => key.publicJwk) };
}
