/**
 * Verified tokens by their exact string. Only tokens that passed every check are ever inserted,
 * so a flood of bad tokens cannot push good ones out; a hit skips the signature and claim checks
 * but never the expiry, key and revocation checks, which the engine makes on every call.
 */
import type { ServiceClaims, TrustedKey } from "../types.js";

export interface CachedToken {
  readonly claims: ServiceClaims;
  /** The key it verified under; a hit counts only while the key source still trusts this key. */
  readonly key: TrustedKey;
}

export class TokenCache {
  readonly #entries = new Map<string, CachedToken>();
  readonly #maxEntries: number;
  hits = 0;
  misses = 0;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Counts nothing: only the engine knows whether an entry was served. */
  get(token: string): CachedToken | undefined {
    return this.#entries.get(token);
  }

  set(token: string, entry: CachedToken, nowSec: number): void {
    if (this.#maxEntries === 0) return;
    if (this.#entries.size >= this.#maxEntries) this.#evict(nowSec);
    this.#entries.set(token, entry);
  }

  delete(token: string): void {
    this.#entries.delete(token);
  }

  /** Drops expired entries; if none were, the oldest insertion goes (tokens age out in that order). */
  #evict(nowSec: number): void {
    const before = this.#entries.size;
    for (const [token, entry] of this.#entries) {
      if (entry.claims.exp <= nowSec) this.#entries.delete(token);
    }
    if (this.#entries.size === before) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
  }
}
