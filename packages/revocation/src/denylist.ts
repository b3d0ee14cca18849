import type { revocationV1 } from "@trustmesh/proto";
import type { RevocationQuery, RevocationStatus } from "@trustmesh/verifier";
import { DEFAULT_TOLERANCE_SEC } from "./ensure-revocation-stream.js";
import { requireFunction, requireInteger } from "./lib/validate.js";

/** Entries looked at per prune() call when none is given. */
export const DEFAULT_PRUNE_BUDGET = 10_000;

export interface DenylistOptions {
  /** How long past `exp` a verifier still accepts a token; entries are kept that much longer. */
  readonly toleranceSec?: number;
  /** Milliseconds since the epoch; injectable so tests can move time. */
  readonly now?: () => number;
}

export interface DenylistSize {
  readonly tokens: number;
  readonly subjects: number;
  readonly keys: number;
}

interface SubjectEntry {
  /** Tokens of the subject with `iat` before this (epoch seconds) are revoked. */
  before: number;
  dropAt: number;
}

/**
 * What is revoked, in memory, answering `check` with a few map lookups and no allocation.
 *
 * Memory: the jti map is the only part that grows with traffic, so it holds nothing but the jti
 * string and the entry's drop time (exp + tolerance), as a small integer (seconds since this
 * list was made) that V8 keeps unboxed in the map; a boxed epoch number would add a heap object
 * per entry. There is no expiry index: a time-bucketed one costs a pointer per entry plus array
 * slack (measured 80.7 B/entry at 1,000,000 entries against 69.4 B for the bare map). Instead
 * prune() sweeps the map in insertion order with a cursor that survives between calls, a bounded
 * number of entries at a time, deleting what has passed its drop time. An entry outlives its
 * drop time by at most one full sweep, so memory stays bounded by the revocation rate times
 * (token lifetime + tolerance + sweep period). Subjects and keys are few: swept whole each call.
 */
export class Denylist {
  readonly #toleranceSec: number;
  readonly #now: () => number;
  /** The origin of the stored drop times, in epoch seconds. */
  readonly #baseSec: number;
  readonly #tokens = new Map<string, number>();
  #version = 0;
  readonly #subjects = new Map<string, SubjectEntry>();
  readonly #keys = new Map<string, number>();
  #sweep: MapIterator<[string, number]> | undefined;

  constructor(options: DenylistOptions = {}) {
    this.#toleranceSec = requireInteger("ERR_REVOCATION_OPTIONS", "toleranceSec", options.toleranceSec ?? DEFAULT_TOLERANCE_SEC, 0, 3_600);
    this.#now = requireFunction("now", options.now, Date.now);
    this.#baseSec = Math.floor(this.#now() / 1000);
  }

  /** Revokes one token until `expSec` + tolerance. False when nothing changed. */
  revokeToken(jti: string, expSec: number): boolean {
    const dropAt = this.#dropAt(expSec);
    if (jti === "" || dropAt === undefined) return false;
    const current = this.#tokens.get(jti);
    if (current !== undefined && current >= dropAt) return false;
    this.#tokens.set(jti, dropAt);
    this.#version++;
    return true;
  }

  /** Revokes `sub`'s tokens issued before `issuedBeforeSec`, until `expiresAtSec` + tolerance. */
  revokeSubject(sub: string, issuedBeforeSec: number, expiresAtSec: number): boolean {
    const dropAt = this.#dropAt(expiresAtSec);
    if (sub === "" || dropAt === undefined || !Number.isFinite(issuedBeforeSec)) return false;
    const current = this.#subjects.get(sub);
    if (current === undefined) {
      this.#subjects.set(sub, { before: issuedBeforeSec, dropAt });
      this.#version++;
      return true;
    }
    // The latest cut-off wins, and it must be kept as long as the longest-lived token it names.
    const changed = issuedBeforeSec > current.before || dropAt > current.dropAt;
    current.before = Math.max(current.before, issuedBeforeSec);
    current.dropAt = Math.max(current.dropAt, dropAt);
    if (changed) this.#version++;
    return changed;
  }

  /** Revokes every token signed by `kid`, until `expiresAtSec` + tolerance. */
  revokeKey(kid: string, expiresAtSec: number): boolean {
    const dropAt = this.#dropAt(expiresAtSec);
    if (kid === "" || dropAt === undefined) return false;
    const current = this.#keys.get(kid);
    if (current !== undefined && current >= dropAt) return false;
    this.#keys.set(kid, dropAt);
    this.#version++;
    return true;
  }

  /**
   * Bumped by every change that can revoke something more (pruning only forgets tokens that
   * have expired anyway), so "active at version v" stays true for as long as v is current.
   */
  get version(): number {
    return this.#version;
  }

  /** Applies one event; idempotent, so a replayed or redelivered event does no harm. */
  apply(event: revocationV1.RevocationEvent): boolean {
    const target = event.target;
    switch (target?.$case) {
      case "token":
        return this.revokeToken(target.value.jti, target.value.expUnix);
      case "subject":
        return this.revokeSubject(target.value.sub, target.value.issuedBeforeUnix, target.value.expiresAtUnix);
      case "signingKey":
        return this.revokeKey(target.value.kid, target.value.expiresAtUnix);
      default:
        return false;
    }
  }

  check(token: RevocationQuery): Exclude<RevocationStatus, "unavailable"> {
    if (this.#tokens.has(token.jti)) return "revoked-jti";
    if (this.#keys.has(token.kid)) return "revoked-kid";
    const subject = this.#subjects.get(token.sub);
    if (subject !== undefined && token.iat < subject.before) return "revoked-subject";
    return "active";
  }

  /**
   * Drops entries whose tokens can no longer verify, looking at no more than `budget` jti
   * entries (each at most once per call); returns how many entries it dropped.
   */
  prune(budget = DEFAULT_PRUNE_BUDGET): number {
    const cutoff = Math.floor(this.#now() / 1000) - this.#baseSec;
    let dropped = 0;
    for (const [sub, entry] of this.#subjects) {
      if (entry.dropAt >= cutoff) continue;
      this.#subjects.delete(sub);
      dropped++;
    }
    for (const [kid, dropAt] of this.#keys) {
      if (dropAt >= cutoff) continue;
      this.#keys.delete(kid);
      dropped++;
    }
    let visits = Math.min(budget, this.#tokens.size);
    while (visits > 0) {
      this.#sweep ??= this.#tokens.entries();
      const next = this.#sweep.next();
      if (next.done === true) {
        this.#sweep = undefined;
        continue;
      }
      visits--;
      // Indexing, not destructuring: that would run the array iterator protocol per entry.
      if (next.value[1] >= cutoff) continue;
      // Deleting the entry under a live Map iterator is safe: iteration goes on with the next.
      this.#tokens.delete(next.value[0]);
      dropped++;
    }
    return dropped;
  }

  get size(): DenylistSize {
    return { tokens: this.#tokens.size, subjects: this.#subjects.size, keys: this.#keys.size };
  }

  /** The stored drop time, or undefined when the entry would already be droppable. */
  #dropAt(expiresAtSec: number): number | undefined {
    if (!Number.isFinite(expiresAtSec)) return undefined;
    const dropAt = Math.floor(expiresAtSec) + this.#toleranceSec - this.#baseSec;
    return dropAt < Math.floor(this.#now() / 1000) - this.#baseSec ? undefined : dropAt;
  }
}
