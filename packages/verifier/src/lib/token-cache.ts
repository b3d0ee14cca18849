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

/**
 * The map's key: the token's signature segment. A token arrives as a new string on every call, so
 * the map hashes its key each lookup; the signature is a sixth of the token and as distinctive,
 * and the entry keeps the whole token, compared before a hit counts.
 */
function keyOf(token: string): string {
  return token.slice(token.lastIndexOf(".") + 1);
}

interface Entry extends CachedToken {
  readonly token: string;
}

export class TokenCache {
  readonly #entries = new Map<string, Entry>();
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
    const entry = this.#entries.get(keyOf(token));
    return entry?.token === token ? entry : undefined;
  }

  set(token: string, entry: CachedToken): void {
    if (this.#maxEntries === 0) return;
    // The oldest insertion goes first: tokens age out in that order, and it costs O(1).
    // Expired entries leave when they are next looked up, or in their turn here.
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(keyOf(token), { claims: entry.claims, key: entry.key, token });
  }

  delete(token: string): void {
    const key = keyOf(token);
    if (this.#entries.get(key)?.token === token) this.#entries.delete(key);
  }
}
