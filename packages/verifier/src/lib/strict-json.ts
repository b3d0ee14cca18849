/**
 * JSON for JOSE headers and claim sets: UTF-8 that must be valid, an object at the top, and no
 * member name twice in any object. RFC 7519 §4 lets a parser keep the last duplicate instead, but
 * then two verifiers in two languages can read different claims from one signed token; refusing
 * is the only answer that cannot disagree with anyone.
 */

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The parsed object, or undefined when the bytes are not a strict JSON object. */
export function parseStrictJsonObject(bytes: Uint8Array): Record<string, unknown> | undefined {
  let text: string;
  let value: unknown;
  try {
    text = utf8.decode(bytes);
    value = JSON.parse(text);
  } catch {
    // The parser's message quotes the input; it is dropped here, never passed on.
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  return hasDuplicateMemberName(text) ? undefined : (value as Record<string, unknown>);
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;

/**
 * Scans text that JSON.parse has already accepted, so only strings and brackets need tracking.
 * Names are compared decoded ("a" and "\u0061" are the same member).
 */
function hasDuplicateMemberName(text: string): boolean {
  const scopes: (Set<string> | null)[] = [];
  let expectName = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      let end = i + 1;
      let escaped = false;
      while (text.charCodeAt(end) !== QUOTE) {
        if (text.charCodeAt(end) === BACKSLASH) {
          escaped = true;
          end++;
        }
        end++;
      }
      const names = scopes[scopes.length - 1];
      if (expectName && names) {
        const name = escaped ? (JSON.parse(text.slice(i, end + 1)) as string) : text.slice(i + 1, end);
        if (names.has(name)) return true;
        names.add(name);
        expectName = false;
      }
      i = end;
    } else if (code === OPEN_OBJECT) {
      scopes.push(new Set());
      expectName = true;
    } else if (code === OPEN_ARRAY) {
      scopes.push(null);
      expectName = false;
    } else if (code === CLOSE_OBJECT || code === CLOSE_ARRAY) {
      scopes.pop();
      expectName = false;
    } else if (code === COMMA) {
      expectName = scopes[scopes.length - 1] != null;
    }
  }
  return false;
}
