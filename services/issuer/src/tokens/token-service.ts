/**
 * IssueToken and RefreshToken, independent of gRPC: authenticate the client by its assertion,
 * check what it asks for against its identity, mint the access token, and keep the refresh
 * family in the store. Issuance costs the store one read (the identity), one single-use write
 * (the assertion jti) and one write (refresh token + minted jti together).
 */
import { randomBytes } from "node:crypto";
import { AssertionError, authenticateClient } from "../auth/client-assertion.js";
import { IssuerError, unauthenticated, unavailable } from "../issuer-error.js";
import type { SigningKeys } from "../keys/signing-keys.js";
import { newRefreshToken, parseRefreshToken, StoreError, type AccessTokenRef, type IssuerStore, type ServiceIdentity } from "../store/index.js";

export interface TokenServiceOptions {
  readonly issuer: string;
  readonly store: IssuerStore;
  readonly signingKeys: SigningKeys;
  readonly accessTokenTtlSec: number;
  readonly refreshTokenTtlSec: number;
  readonly now: () => number;
  /** A spent refresh token came back: its family is revoked, these access tokens with it. */
  readonly onFamilyRevoked?: (event: { familyId: string; clientId: string; accessTokens: readonly AccessTokenRef[] }) => void | Promise<void>;
}

export interface IssuedTokens {
  readonly accessToken: string;
  readonly expiresAtUnix: number;
  readonly expiresInSec: number;
  readonly refreshToken: string;
  readonly refreshExpiresAtUnix: number;
  readonly audience: string;
  readonly scopes: readonly string[];
  /** For the log: which service got which token. */
  readonly clientId: string;
  readonly jti: string;
}

const MAX_SCOPES = 64;
const MAX_AUDIENCE_LENGTH = 256;
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/;

export class TokenService {
  readonly #options: TokenServiceOptions;

  constructor(options: TokenServiceOptions) {
    this.#options = options;
  }

  async issue(request: { clientAssertion: string; audience: string; scopes: readonly string[] }): Promise<IssuedTokens> {
    const audience = checkedAudience(request.audience);
    const scopes = checkedScopes(request.scopes);
    const service = await this.#authenticate(request.clientAssertion);
    this.#authorize(service, audience, scopes);

    const access = this.#newAccessToken();
    const refresh = newRefreshToken();
    const refreshExpiresAtSec = access.iat + this.#options.refreshTokenTtlSec;
    await this.#store((store) =>
      store.saveRefreshToken(
        refresh.hash,
        { familyId: refresh.familyId, clientId: service.id, audience, scopes, issuedAtSec: access.iat, expiresAtSec: refreshExpiresAtSec },
        { jti: access.jti, exp: access.exp },
      ),
    );
    return this.#mint(service, audience, scopes, access, refresh.token, refreshExpiresAtSec);
  }

  async refresh(request: { clientAssertion: string; refreshToken: string }): Promise<IssuedTokens> {
    const service = await this.#authenticate(request.clientAssertion);
    const presented = parseRefreshToken(request.refreshToken);
    if (presented === undefined) throw unauthenticated({ check: "refresh-token", reason: "malformed", clientId: service.id });

    const access = this.#newAccessToken();
    const successor = newRefreshToken(presented.familyId);
    const refreshExpiresAtSec = access.iat + this.#options.refreshTokenTtlSec;
    const result = await this.#store((store) =>
      store.rotateRefreshToken({
        familyId: presented.familyId,
        oldHash: presented.hash,
        newHash: successor.hash,
        clientId: service.id,
        expiresAtSec: refreshExpiresAtSec,
        accessToken: { jti: access.jti, exp: access.exp },
      }),
    );
    switch (result.outcome) {
      case "rotated": {
        const { audience, scopes } = result.current;
        // The identity may have lost the grant since the family began; the successor is then
        // stored but never handed out, so it is as good as gone.
        this.#authorize(service, audience, scopes);
        return this.#mint(service, audience, scopes, access, successor.token, refreshExpiresAtSec);
      }
      case "reused":
        await this.#options.onFamilyRevoked?.({ familyId: presented.familyId, clientId: service.id, accessTokens: result.revokedAccessTokens });
        throw unauthenticated({ check: "refresh-token", reason: "reused", familyId: presented.familyId, clientId: service.id, revokedAccessTokens: result.revokedAccessTokens.length });
      default:
        throw unauthenticated({ check: "refresh-token", reason: result.outcome, familyId: presented.familyId, clientId: service.id });
    }
  }

  async #authenticate(clientAssertion: string): Promise<ServiceIdentity> {
    try {
      const { service } = await authenticateClient(clientAssertion, {
        issuer: this.#options.issuer,
        now: this.#options.now,
        findService: (id) => this.#options.store.getService(id),
        consumeJti: (id, jti, expiresAtSec) => this.#options.store.consumeAssertionJti(id, jti, expiresAtSec),
      });
      return service;
    } catch (error) {
      if (error instanceof AssertionError) throw unauthenticated({ check: "client-assertion", reason: error.reason });
      // Whatever the caller sent that the store refuses as input is still just a failed login.
      if (error instanceof StoreError && error.code === "ERR_INVALID_INPUT") throw unauthenticated({ check: "client-assertion", reason: "malformed", field: error.field });
      throw storeFailure(error);
    }
  }

  #authorize(service: ServiceIdentity, audience: string, scopes: readonly string[]): void {
    const allowed = Object.hasOwn(service.audiences, audience) ? service.audiences[audience] : undefined;
    const missing = allowed === undefined ? scopes : scopes.filter((scope) => !allowed.includes(scope));
    if (allowed === undefined || missing.length > 0) {
      throw new IssuerError("ERR_PERMISSION_DENIED", "the requested audience or scopes are not granted to this service", {
        clientId: service.id,
        audience,
        ...(allowed === undefined ? { reason: "audience-not-granted" } : { reason: "scope-not-granted", scopes: missing }),
      });
    }
  }

  #newAccessToken(): { jti: string; iat: number; exp: number } {
    const iat = Math.floor(this.#options.now() / 1000);
    return { jti: randomBytes(16).toString("base64url"), iat, exp: iat + this.#options.accessTokenTtlSec };
  }

  async #mint(
    service: ServiceIdentity,
    audience: string,
    scopes: readonly string[],
    access: { jti: string; iat: number; exp: number },
    refreshToken: string,
    refreshExpiresAtUnix: number,
  ): Promise<IssuedTokens> {
    const { token } = await this.#options.signingKeys.sign({
      iss: this.#options.issuer,
      sub: service.id,
      client_id: service.id,
      aud: audience,
      iat: access.iat,
      nbf: access.iat,
      exp: access.exp,
      jti: access.jti,
      scope: scopes.join(" "),
      tenant_id: service.tenantId,
    });
    return {
      accessToken: token,
      expiresAtUnix: access.exp,
      expiresInSec: access.exp - access.iat,
      refreshToken,
      refreshExpiresAtUnix,
      audience,
      scopes,
      clientId: service.id,
      jti: access.jti,
    };
  }

  async #store<T>(operation: (store: IssuerStore) => Promise<T>): Promise<T> {
    try {
      return await operation(this.#options.store);
    } catch (error) {
      throw storeFailure(error);
    }
  }
}

function storeFailure(error: unknown): IssuerError {
  if (error instanceof IssuerError) return error;
  if (error instanceof StoreError && (error.code === "ERR_STORE_UNAVAILABLE" || error.code === "ERR_STORE_CLOSED")) {
    return unavailable("the issuer's store", { storeCode: error.code });
  }
  if (error instanceof StoreError && error.code === "ERR_FAMILY_REVOKED") return unauthenticated({ check: "refresh-token", reason: "family-revoked" });
  return new IssuerError("ERR_INTERNAL", "internal error", { error: error instanceof Error ? `${error.name}: ${error.message}` : "unknown" });
}

function checkedAudience(audience: unknown): string {
  if (typeof audience !== "string" || audience.length === 0 || audience.length > MAX_AUDIENCE_LENGTH) {
    throw new IssuerError("ERR_INVALID_ARGUMENT", "audience must be one non-empty service id");
  }
  return audience;
}

function checkedScopes(scopes: unknown): string[] {
  if (!Array.isArray(scopes) || scopes.length > MAX_SCOPES || !scopes.every((scope) => typeof scope === "string" && SCOPE_TOKEN.test(scope))) {
    throw new IssuerError("ERR_INVALID_ARGUMENT", `scopes must be at most ${MAX_SCOPES} scope tokens (RFC 6749 §3.3)`);
  }
  return [...new Set(scopes as string[])].sort();
}
