/**
 * RFC 7523 `private_key_jwt` client assertions: how a service proves to the issuer who it is,
 * with no shared secret. Signed with node:crypto directly; the JWK is imported once, at
 * construction, so a bad key fails there and not on the first call.
 */
import { createPrivateKey, createPublicKey, randomBytes, sign, type JsonWebKey, type KeyObject } from "node:crypto";
import { optionsError } from "../token-source-error.js";

/** The service's own private key as a JWK: Ed25519 (`OKP`) or P-256 (`EC`), with the `kid` it was registered under. */
export interface ServicePrivateJwk {
  readonly kid: string;
  /** `EdDSA` or `ES256`; taken from the key type when absent. */
  readonly alg?: string;
  readonly [parameter: string]: unknown;
}

export interface AssertionSigner {
  /** A fresh assertion, valid from `nowMs` for ASSERTION_LIFETIME_SEC, with a random single-use `jti`. */
  sign(nowMs: number): string;
}

/** Well under the issuer's 60 s limit, with room for clock skew. */
export const ASSERTION_LIFETIME_SEC = 30;

export function createAssertionSigner(options: { serviceId: string; issuerUrl: string; privateJwk: ServicePrivateJwk }): AssertionSigner {
  const { key, alg } = importPrivateJwk(options.privateJwk);
  const header = encode({ alg, kid: options.privateJwk.kid, typ: "JWT" });
  return {
    sign(nowMs) {
      const iat = Math.floor(nowMs / 1000);
      const claims = {
        iss: options.serviceId,
        sub: options.serviceId,
        aud: options.issuerUrl,
        iat,
        exp: iat + ASSERTION_LIFETIME_SEC,
        jti: randomBytes(16).toString("base64url"),
      };
      const input = `${header}.${encode(claims)}`;
      const signature = alg === "EdDSA" ? sign(null, Buffer.from(input), key) : sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" });
      return `${input}.${signature.toString("base64url")}`;
    },
  };
}

function importPrivateJwk(jwk: ServicePrivateJwk): { key: KeyObject; alg: "EdDSA" | "ES256" } {
  if (typeof jwk !== "object" || jwk === null) throw optionsError("privateJwk", "must be the service's private JWK");
  if (typeof jwk.kid !== "string" || jwk.kid === "") throw optionsError("privateJwk", "must carry the kid the service's public key was registered under");
  if (typeof jwk["d"] !== "string") throw optionsError("privateJwk", "must be a private key (it has no d)");
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: { ...jwk } as JsonWebKey, format: "jwk" });
  } catch {
    // The cause would quote the key's parameters; say only what is wrong.
    throw optionsError("privateJwk", "is not a valid Ed25519 or P-256 private JWK");
  }
  const type = key.asymmetricKeyType;
  const alg = type === "ed25519" ? "EdDSA" : type === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1" ? "ES256" : undefined;
  if (alg === undefined) throw optionsError("privateJwk", "must be an Ed25519 (EdDSA) or P-256 (ES256) key");
  if (jwk.alg !== undefined && jwk.alg !== alg) throw optionsError("privateJwk", `alg ${jwk.alg} does not match the ${alg} key`);
  // node derives the public half from d and ignores x and y: a mismatch would only show as the
  // issuer refusing every assertion, so catch a mis-pasted key here.
  const derived = createPublicKey(key).export({ format: "jwk" });
  if ((jwk["x"] !== undefined && jwk["x"] !== derived.x) || (jwk["y"] !== undefined && jwk["y"] !== derived.y)) {
    throw optionsError("privateJwk", "its public parameters (x, y) do not belong to its private key");
  }
  return { key, alg };
}

function encode(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}
