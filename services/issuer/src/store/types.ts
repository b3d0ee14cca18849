/**
 * Everything the issuer keeps, behind one small interface with two implementations: memory
 * (the embedded default, state lost on restart) and Redis (production, shared by replicas).
 * Every time decision uses the store's injected clock, so tests can freeze it.
 */

export type ServiceStatus = "active" | "disabled";

/**
 * A public JWK a service signs its client assertions with. Private parameters are refused.
 * `kty` is required at run time; it is optional here only so that jose's `JWK` type fits.
 */
export interface PublicJwk {
  readonly kty?: string;
  readonly kid: string;
  readonly [parameter: string]: unknown;
}

/** audience → the scopes this service may ask for at that audience. */
export type AudienceScopes = Readonly<Record<string, readonly string[]>>;

export interface ServiceIdentity {
  /** `[a-z0-9][a-z0-9._-]{0,62}`; the token's `sub` and `client_id`. Immutable. */
  readonly id: string;
  /** Same syntax as `id`; the token's `tenant_id`. Immutable: tokens already carry it. */
  readonly tenantId: string;
  /** One key, or two while the service rotates its own; `kid`s distinct. */
  readonly keys: readonly PublicJwk[];
  readonly audiences: AudienceScopes;
  readonly status: ServiceStatus;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
  /** 1 at registration, +1 on every write; `updateService` must name the current one. */
  readonly revision: number;
}

export interface NewServiceIdentity {
  readonly id: string;
  readonly tenantId: string;
  readonly keys: readonly PublicJwk[];
  readonly audiences: AudienceScopes;
  /** Defaults to "active". */
  readonly status?: ServiceStatus;
}

/** The fields `updateService` may change; absent ones are kept. */
export interface ServiceIdentityChanges {
  readonly keys?: readonly PublicJwk[];
  readonly audiences?: AudienceScopes;
  readonly status?: ServiceStatus;
}

/** What a refresh token stands for. Only the token's SHA-256 hash is ever stored with it. */
export interface RefreshTokenRecord {
  readonly familyId: string;
  /** The service the token was issued to; only that client's assertion may spend it. */
  readonly clientId: string;
  readonly audience: string;
  readonly scopes: readonly string[];
  readonly issuedAtSec: number;
  readonly expiresAtSec: number;
}

/** An access token minted from a refresh family: what a revocation must name. */
export interface AccessTokenRef {
  readonly jti: string;
  readonly exp: number;
}

export interface RotateRefreshTokenInput {
  readonly familyId: string;
  /** Hash of the presented token (`parseRefreshToken(token).hash`). */
  readonly oldHash: string;
  /** Hash of its successor, from `newRefreshToken(familyId)`. */
  readonly newHash: string;
  /** The client whose assertion came with the request; a token of another client is not spent. */
  readonly clientId: string;
  /** When the successor expires. It carries the old record's audience and scopes and is issued
   *  now: the caller cannot know them before the atomic step without a second round trip. */
  readonly expiresAtSec: number;
  /** The access token minted with the successor, recorded in the same atomic step. */
  readonly accessToken?: AccessTokenRef;
}

export type RotateRefreshTokenResult =
  /** The old token is now spent and the successor stored. */
  | { readonly outcome: "rotated"; readonly previous: RefreshTokenRecord; readonly current: RefreshTokenRecord }
  /** The old token had been spent already: the whole family is revoked, in the same atomic step,
   *  and these are the (unexpired) access tokens minted from it, for the revocation stream. */
  | { readonly outcome: "reused"; readonly revokedAccessTokens: readonly AccessTokenRef[] }
  /** No such token in this family (never issued, or gone long past its expiry). */
  | { readonly outcome: "unknown" }
  | { readonly outcome: "expired" }
  /** The family was revoked earlier; nothing changed. */
  | { readonly outcome: "family-revoked" }
  /** The token belongs to another client; nothing changed, the token stays usable by its owner. */
  | { readonly outcome: "client-mismatch" };

export type RotateOutcome = RotateRefreshTokenResult["outcome"];

/** One of the issuer's signing keys. The store keeps it verbatim and never looks inside. */
export interface StoredSigningKey {
  readonly kid: string;
  readonly alg: string;
  readonly state: "next" | "active" | "retired";
  readonly createdAtMs: number;
  readonly activatesAtMs?: number;
  readonly retiredAtMs?: number;
  readonly publishUntilMs?: number;
  /** AES-256-GCM ciphertext, sealed by the issuer; the store never sees the plaintext. */
  readonly encryptedPrivateKey: string;
  readonly publicJwk: Readonly<Record<string, unknown>>;
}

export interface Keyring {
  /** 0 before the first write; +1 on every successful `compareAndSetKeyring`. */
  readonly version: number;
  readonly keys: readonly StoredSigningKey[];
}

export interface IssuerStore {
  readonly kind: "memory" | "redis";

  /** Resolves once the store answers; rejects with ERR_STORE_UNAVAILABLE otherwise. For start-up
   *  and health checks: operations do not need it first. */
  ready(): Promise<void>;

  /** Rejects with ERR_SERVICE_EXISTS when the id is taken. */
  registerService(identity: NewServiceIdentity): Promise<ServiceIdentity>;
  getService(id: string): Promise<ServiceIdentity | undefined>;
  /** All identities, sorted by id. */
  listServices(): Promise<ServiceIdentity[]>;
  /** Rejects with ERR_STALE_REVISION unless `expectedRevision` is the stored one, and with
   *  ERR_SERVICE_NOT_FOUND for an unknown id. */
  updateService(id: string, expectedRevision: number, changes: ServiceIdentityChanges): Promise<ServiceIdentity>;
  /** Disables whatever the current revision is (an operator's stop button must not lose a race);
   *  a service already disabled is returned unchanged. */
  disableService(id: string): Promise<ServiceIdentity>;

  /**
   * True the first time this client presents this assertion `jti`, false ever after, across
   * replicas. Remembered until `expiresAtSec + RETENTION_SLACK_SEC`, so the issuer must refuse
   * assertions more than that past their `exp` (it refuses them at `exp` plus a small tolerance).
   */
  consumeAssertionJti(clientId: string, jti: string, expiresAtSec: number): Promise<boolean>;

  /** Stores a new token of `record.familyId` (starting the family if new), and the access token
   *  minted with it, in one round trip. ERR_FAMILY_REVOKED, ERR_REFRESH_TOKEN_EXISTS. */
  saveRefreshToken(hash: string, record: RefreshTokenRecord, accessToken?: AccessTokenRef): Promise<void>;
  /** Spends the old token and stores its successor atomically: of concurrent calls with one old
   *  token exactly one gets "rotated". ERR_REFRESH_TOKEN_EXISTS if `newHash` is stored already. */
  rotateRefreshToken(input: RotateRefreshTokenInput): Promise<RotateRefreshTokenResult>;
  /** Remembers an access token minted from the family until it expires (plus the slack), so a
   *  revocation can name it. Rejects with ERR_FAMILY_REVOKED: the token must not be handed out. */
  recordAccessToken(familyId: string, jti: string, expSec: number): Promise<void>;
  /** Revokes the family (idempotent) and returns its unexpired access tokens, every time. */
  revokeFamily(familyId: string): Promise<AccessTokenRef[]>;
  isFamilyRevoked(familyId: string): Promise<boolean>;

  getKeyring(): Promise<Keyring>;
  /** Replaces the keys if the stored version is still `expectedVersion`; false if another writer
   *  got there first (re-read and decide again). */
  compareAndSetKeyring(expectedVersion: number, keys: readonly StoredSigningKey[]): Promise<boolean>;

  /** Idempotent; later operations reject with ERR_STORE_CLOSED. */
  close(): Promise<void>;
}
