/**
 * The one verification engine behind `createVerifier`: the JWS checks of compact-jws.ts, then the
 * access-token profile. Every call, cached or not, ends with the expiry, key and revocation checks.
 */
import { VerifyError } from "../errors.js";
import type { ResolvedOptions } from "../options.js";
import type { KeySource, RevocationCheck, RevocationStatus, ServiceClaims, TrustedKey } from "../types.js";
import { readClaims } from "./claims.js";
import { malformed, verifyCompactJws, type CompactJwsRules } from "./compact-jws.js";
import { TokenCache } from "./token-cache.js";

/** RFC 9068 §2.1; media types are case-insensitive and the "application/" prefix may be omitted. */
const ACCESS_TOKEN_TYPES = new Set(["at+jwt", "application/at+jwt"]);

export interface CacheStats {
  readonly size: number;
  readonly hits: number;
  readonly misses: number;
}

export class VerificationEngine {
  readonly #options: ResolvedOptions;
  readonly #keys: KeySource;
  readonly #cache: TokenCache;
  readonly #jwsRules: CompactJwsRules;

  constructor(options: ResolvedOptions, keys: KeySource) {
    this.#options = options;
    this.#keys = keys;
    this.#cache = new TokenCache(options.cacheMaxEntries);
    this.#jwsRules = {
      algorithms: options.algorithms,
      acceptType: (typ) => typ !== undefined && ACCESS_TOKEN_TYPES.has(typ),
      requireLowS: true,
      findKey: (kid) => this.#findKey(kid),
    };
  }

  cacheStats(): CacheStats {
    return { size: this.#cache.size, hits: this.#cache.hits, misses: this.#cache.misses };
  }

  async verify(token: unknown): Promise<ServiceClaims> {
    if (typeof token !== "string") throw malformed();
    if (token.length > this.#options.maxTokenBytes) throw new VerifyError("ERR_TOKEN_TOO_LARGE", "token exceeds the size limit");
    const nowSec = this.#options.now() / 1000;

    const cached = this.#cache.get(token);
    if (cached !== undefined) {
      if (this.#keys.current(cached.claims.kid) === cached.key) {
        if (nowSec >= cached.claims.exp + this.#options.clockToleranceSec) {
          this.#cache.delete(token);
          throw new VerifyError("ERR_TOKEN_EXPIRED", "token has expired");
        }
        if (this.#options.revocation !== undefined) await this.#checkRevocation(cached.claims);
        this.#cache.hits++;
        return cached.claims;
      }
      // The key was dropped or replaced since: verify from scratch against what is trusted now.
      this.#cache.delete(token);
    }

    this.#cache.misses++;
    const { claims, key } = await this.#verifyUncached(token, nowSec);
    await this.#checkRevocation(claims);
    this.#cache.set(token, { claims, key });
    return claims;
  }

  async #verifyUncached(token: string, nowSec: number): Promise<{ claims: ServiceClaims; key: TrustedKey }> {
    const { payload, kid, key } = await verifyCompactJws(token, this.#jwsRules);
    return { claims: readClaims(payload, kid, this.#options, nowSec), key };
  }

  async #findKey(kid: string): Promise<TrustedKey> {
    const known = this.#keys.current(kid);
    if (known !== undefined) return known;
    let resolved: TrustedKey | undefined;
    try {
      resolved = await this.#keys.resolve(kid);
    } catch (cause) {
      throw new VerifyError("ERR_KEYS_UNAVAILABLE", "verification keys could not be loaded", { cause });
    }
    if (resolved !== undefined) return resolved;
    if (!this.#keys.loaded) throw new VerifyError("ERR_KEYS_UNAVAILABLE", "no verification keys have been loaded yet");
    throw new VerifyError("ERR_KEY_NOT_FOUND", "no trusted key has this kid");
  }

  async #checkRevocation(claims: ServiceClaims): Promise<void> {
    const revocation: RevocationCheck | undefined = this.#options.revocation;
    if (revocation === undefined) return;
    let status: RevocationStatus;
    try {
      const answer = revocation.check(claims);
      status = typeof answer === "string" ? answer : await answer;
    } catch (cause) {
      throw new VerifyError("ERR_REVOCATION_UNAVAILABLE", "revocation check failed", { cause });
    }
    switch (status) {
      case "active":
        return;
      case "revoked-jti":
        throw new VerifyError("ERR_TOKEN_REVOKED", "token has been revoked", { reason: "jti" });
      case "revoked-subject":
        throw new VerifyError("ERR_TOKEN_REVOKED", "tokens of this subject have been revoked", { reason: "subject" });
      case "revoked-kid":
        throw new VerifyError("ERR_TOKEN_REVOKED", "the token's signing key has been revoked", { reason: "kid" });
      default:
        // "unavailable", or anything a faulty check returns: fail closed.
        throw new VerifyError("ERR_REVOCATION_UNAVAILABLE", "revocation state is unavailable or too stale to trust");
    }
  }
}
