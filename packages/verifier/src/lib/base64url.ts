/**
 * Strict, canonical base64url (RFC 4648 §5, no padding). Node's decoder is lenient: it skips
 * unknown characters and ignores non-zero trailing bits, so two different strings can decode to
 * the same bytes. A token must have exactly one spelling, so this refuses all but the canonical one.
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Sextet value per char code, or -1 for anything outside the alphabet. */
const VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUES[ALPHABET.charCodeAt(i)] = i;

/** True when `text[start, end)` is non-empty canonical base64url. */
export function isCanonicalBase64url(text: string, start: number, end: number): boolean {
  const length = end - start;
  if (length === 0 || length % 4 === 1) return false;
  let last = 0;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    last = code < 128 ? (VALUES[code] as number) : -1;
    if (last < 0) return false;
  }
  // The final character carries bits past the last whole byte; canonical encoders leave them zero.
  switch (length % 4) {
    case 2:
      return (last & 0x0f) === 0;
    case 3:
      return (last & 0x03) === 0;
    default:
      return true;
  }
}

/** Decodes a string already checked by `isCanonicalBase64url`. */
export function decodeBase64url(text: string): Buffer {
  return Buffer.from(text, "base64url");
}

/** Decodes a standalone value (a JWK member), or returns undefined when it is not canonical. */
export function decodeCanonicalBase64url(value: unknown): Buffer | undefined {
  if (typeof value !== "string" || !isCanonicalBase64url(value, 0, value.length)) return undefined;
  return Buffer.from(value, "base64url");
}
