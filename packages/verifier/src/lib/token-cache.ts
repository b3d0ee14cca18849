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

  set(token: string, entry: CachedToken): void {
    if (this.#maxEntries === 0) return;
    // The oldest insertion goes first: tokens age out in that order, and it costs O(1).
    // Expired entries leave when they are next looked up, or in their turn here.
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(token, entry);
  }

  delete(token: string): void {
    this.#entries.delete(token);
  }
}
