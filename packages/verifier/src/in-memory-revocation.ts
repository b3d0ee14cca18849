import type { RevocationFeed, RevocationQuery, RevocationStatus } from "./types.js";

/**
 * A revocation list held in memory and changed by hand: for tests, and for a service that has no
 * revocation feed yet. The live, NATS-fed list is in @trustmesh/revocation.
 */
export class InMemoryRevocationList implements RevocationFeed {
  readonly #listeners = new Set<() => void>();
  readonly #jtis = new Set<string>();
  /** sub -> tokens with `iat` before this (epoch seconds) are revoked. */
  readonly #subjects = new Map<string, number>();
  readonly #kids = new Set<string>();

  revokeToken(jti: string): this {
    this.#jtis.add(jti);
    return this.#changed();
  }

  revokeSubject(sub: string, issuedBeforeSec: number): this {
    this.#subjects.set(sub, Math.max(issuedBeforeSec, this.#subjects.get(sub) ?? 0));
    return this.#changed();
  }

  revokeKey(kid: string): this {
    this.#kids.add(kid);
    return this.#changed();
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(): this {
    for (const listener of this.#listeners) listener();
    return this;
  }

  check(token: RevocationQuery): RevocationStatus {
    if (this.#jtis.has(token.jti)) return "revoked-jti";
    if (this.#kids.has(token.kid)) return "revoked-kid";
    const before = this.#subjects.get(token.sub);
    if (before !== undefined && token.iat < before) return "revoked-subject";
    return "active";
  }
}
