import type { KeyObject } from "node:crypto";

/** The signature algorithms the profile knows. Nothing else can ever be allowed. */
export type Algorithm = "EdDSA" | "ES256";

export const SUPPORTED_ALGORITHMS: readonly Algorithm[] = Object.freeze(["EdDSA", "ES256"]);

/** The verified claims of a service access token, as handlers see them. */
export interface ServiceClaims {
  readonly iss: string;
  /** The calling service's id; equal to `clientId` by the profile. */
  readonly sub: string;
  readonly clientId: string;
  /** The one audience the token is for: this service. */
  readonly aud: string;
  readonly scopes: readonly string[];
  readonly tenantId: string | undefined;
  readonly jti: string;
  readonly iat: number;
  readonly nbf: number;
  readonly exp: number;
  /** The signing key's id, so revocation of a key can name its tokens. */
  readonly kid: string;
}

/** A public JWK as it arrives: members are unknown until validated. */
export type JsonWebKey = Readonly<Record<string, unknown>>;

export interface JsonWebKeySet {
  readonly keys: readonly JsonWebKey[];
}

/** A validated verification key. Only key sources build these. */
export interface TrustedKey {
  readonly kid: string;
  readonly alg: Algorithm;
  readonly key: KeyObject;
  /** The public members that define the key, for telling an unchanged key from a replaced one. */
  readonly fingerprint: string;
}

/**
 * Where verification keys come from. `current` answers from what is loaded, without I/O, and is
 * what every cached token is re-checked against; `resolve` may refresh first (rate-limited).
 */
export interface KeySource {
  current(kid: string): TrustedKey | undefined;
  resolve(kid: string): Promise<TrustedKey | undefined>;
  /** False until a key set has been loaded at least once. */
  readonly loaded: boolean;
  ready(): Promise<void>;
  close(): Promise<void>;
}

/** What the revocation check needs to know of a token whose signature and claims passed. */
export type RevocationQuery = Pick<ServiceClaims, "jti" | "sub" | "iat" | "exp" | "kid">;

export type RevocationStatus =
  | "active"
  | "revoked-jti"
  | "revoked-subject"
  | "revoked-kid"
  /** The check cannot vouch for the token (state too stale): the verifier fails closed. */
  | "unavailable";

/** Answers "is this token revoked". Consulted on every verify, cached or not. */
export interface RevocationCheck {
  check(token: RevocationQuery): RevocationStatus | Promise<RevocationStatus>;
}

/**
 * A revocation check that changes while the process runs (the NATS-fed denylist). Whoever holds
 * something verified earlier, such as an open stream, re-checks it when told of a change.
 */
export interface RevocationFeed extends RevocationCheck {
  /** Calls `listener` after every change that may revoke something; returns the unsubscribe. */
  onChange(listener: () => void): () => void;
}

/** The logging the verifier does: dropped keys and failed key fetches, never token text. */
export interface VerifierLogger {
  warn(fields: Readonly<Record<string, unknown>>, message: string): void;
}
