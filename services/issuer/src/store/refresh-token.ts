/**
 * Refresh tokens are `tmr_<familyId>_<secret>`: a recognisable prefix (secret scanners, log
 * scrubbers), the family id in the clear so the store can find every key of one family under
 * one Redis Cluster hash tag without a lookup, and 256 random bits that only the holder knows.
 * The store sees the SHA-256 hash of the whole token, never the token.
 */
import { createHash, randomBytes } from "node:crypto";
import { invalidInput } from "./errors.js";

export const REFRESH_TOKEN_PREFIX = "tmr_";

export interface NewRefreshToken {
  /** Hand this to the client, once; never log or store it. */
  readonly token: string;
  readonly familyId: string;
  /** What the store keys the token by. */
  readonly hash: string;
}

export interface ParsedRefreshToken {
  readonly familyId: string;
  readonly hash: string;
}

const FAMILY_ID_BYTES = 16;
const SECRET_BYTES = 32;
// Fixed lengths keep the split unambiguous although "_" is itself a base64url character.
const TOKEN_PATTERN = /^tmr_([A-Za-z0-9_-]{22})_([A-Za-z0-9_-]{43})$/;

/** A fresh token, in a new family or (on rotation) in `familyId`. */
export function newRefreshToken(familyId?: string): NewRefreshToken {
  if (familyId !== undefined && !isFamilyId(familyId)) {
    throw invalidInput("familyId", "must be 16 bytes, base64url");
  }
  const family = familyId ?? randomBytes(FAMILY_ID_BYTES).toString("base64url");
  const token = `${REFRESH_TOKEN_PREFIX}${family}_${randomBytes(SECRET_BYTES).toString("base64url")}`;
  return { token, familyId: family, hash: hashRefreshToken(token) };
}

/**
 * The family and hash of a well-formed token, or undefined for anything else (wrong prefix,
 * length, alphabet, or a non-canonical base64url segment). No secret comparison happens here:
 * the hash is what gets looked up, so timing reveals nothing about a stored token.
 */
export function parseRefreshToken(token: unknown): ParsedRefreshToken | undefined {
  if (typeof token !== "string") return undefined;
  const match = TOKEN_PATTERN.exec(token);
  if (match === null) return undefined;
  const [, familyId, secret] = match;
  if (familyId === undefined || secret === undefined) return undefined;
  if (!isCanonical(familyId, FAMILY_ID_BYTES) || !isCanonical(secret, SECRET_BYTES)) return undefined;
  return { familyId, hash: hashRefreshToken(token) };
}

/** base64url(SHA-256(token)): 43 characters. */
export function hashRefreshToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("base64url");
}

export function isFamilyId(value: unknown): value is string {
  return typeof value === "string" && /^[A-Za-z0-9_-]{22}$/.test(value) && isCanonical(value, FAMILY_ID_BYTES);
}

export function isRefreshTokenHash(value: unknown): value is string {
  return typeof value === "string" && /^[A-Za-z0-9_-]{43}$/.test(value) && isCanonical(value, 32);
}

// Unused low bits in the last character would let one byte string have several spellings.
function isCanonical(segment: string, bytes: number): boolean {
  const decoded = Buffer.from(segment, "base64url");
  return decoded.length === bytes && decoded.toString("base64url") === segment;
}
