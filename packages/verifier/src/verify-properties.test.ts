import {
  generateTestKey,
  jwksOf,
  mintTestToken,
  profileHeader,
  signRawToken,
  TEST_AUDIENCE,
  TEST_ISSUER,
  TEST_NOW_SEC,
  type TestSigningKey,
} from "@trustmesh/testing";
import fc from "fast-check";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createVerifier, VERIFY_ERROR_CODES, VerifyError, type ServiceClaims, type Verifier } from "./index.js";

// Enough to reach the deep branches (key lookup, signature, claims) many times over, and still run
// in about a second per property on two cores.
const NUM_RUNS = 1000;
const TOLERANCE_SEC = 30;
const MAX_LIFETIME_SEC = 900;
const MAX_IDENTIFIER_LENGTH = 256;
/** A rejection message must not share this many consecutive characters with the input. */
const LEAK_WINDOW = 8;
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

let ed: TestSigningKey;
let es: TestSigningKey;
let untrusted: TestSigningKey;
let validTokens: readonly string[];
/** Anything the verifier logs: with a static, valid key set the only source is an unexpected fault. */
const faults: string[] = [];

beforeAll(async () => {
  [ed, es, untrusted] = await Promise.all([generateTestKey("EdDSA"), generateTestKey("ES256"), generateTestKey("EdDSA")]);
  validTokens = await Promise.all([
    // jti lengths that give payload segments of every length modulo 4 that canonical base64url has.
    ...[ed, es].flatMap((key) => [20, 21, 22].map((length) => mintTestToken(key, { nowSec: TEST_NOW_SEC, claims: { jti: "j".repeat(length) } }))),
    mintTestToken(ed, { nowSec: TEST_NOW_SEC, claims: { aud: [TEST_AUDIENCE], scope: undefined, tenant_id: undefined } }),
    mintTestToken(es, { nowSec: TEST_NOW_SEC, claims: { aud: [TEST_AUDIENCE], scope: "" } }),
  ]);
});

beforeEach(() => {
  faults.length = 0;
});

function newVerifier(): Verifier {
  return createVerifier({
    issuer: TEST_ISSUER,
    audience: TEST_AUDIENCE,
    jwks: jwksOf(ed, es),
    now: () => TEST_NOW_SEC * 1000,
    logger: {
      warn: (_fields, message) => {
        faults.push(message);
      },
    },
  });
}

type Outcome = { readonly claims: ServiceClaims } | { readonly error: VerifyError };

/** Verifies, and holds every rejection to the contract: a VerifyError, a known code, no input text. */
async function outcomeOf(verifier: Verifier, token: string, inputs: readonly string[] = [token]): Promise<Outcome> {
  let claims: ServiceClaims;
  try {
    claims = await verifier.verify(token);
  } catch (error) {
    expect(error).toBeInstanceOf(VerifyError);
    const verifyError = error as VerifyError;
    expect(VERIFY_ERROR_CODES).toContain(verifyError.code);
    expect(leakedText(verifyError, inputs)).toBeUndefined();
    expect(faults).toEqual([]);
    return { error: verifyError };
  }
  expect(faults).toEqual([]);
  return { claims };
}

async function expectRejected(verifier: Verifier, token: string): Promise<void> {
  const outcome = await outcomeOf(verifier, token);
  expect("error" in outcome).toBe(true);
}

/** The first window of the message (or its cause's) that occurs in one of the inputs. */
function leakedText(error: VerifyError, inputs: readonly string[]): string | undefined {
  const texts = [error.message, error.cause instanceof Error ? error.cause.message : ""];
  for (const text of texts) {
    for (let i = 0; i + LEAK_WINDOW <= text.length; i++) {
      const window = text.slice(i, i + LEAK_WINDOW);
      if (inputs.some((input) => input.includes(window))) return window;
    }
  }
  return undefined;
}

const base64urlOf = (data: string | Uint8Array): string => Buffer.from(data).toString("base64url");

describe("arbitrary strings", () => {
  it("never verify, and are rejected with nothing but a VerifyError", async () => {
    const verifier = newVerifier();
    const trustedHeader = fc.constantFrom(ed, es, untrusted).map((key) => base64urlOf(JSON.stringify(profileHeader(key))));
    const segment = fc.oneof(
      fc.stringMatching(/^[A-Za-z0-9_-]{0,90}$/),
      fc.jsonValue({ maxDepth: 2 }).map((value) => base64urlOf(JSON.stringify(value))),
      fc.uint8Array({ maxLength: 96 }).map(base64urlOf),
      trustedHeader,
      // A signature-sized segment, so random bytes reach the signature check.
      fc.uint8Array({ minLength: 64, maxLength: 64 }).map(base64urlOf),
    );
    const nearSizeLimit = fc
      .tuple(fc.integer({ min: 1, max: 4200 }), fc.integer({ min: 1, max: 4200 }), fc.integer({ min: 0, max: 200 }))
      .map(([header, payload, signature]) => `${"e".repeat(header)}.${"A".repeat(payload)}.${"Q".repeat(signature)}`);
    const long = fc
      .tuple(fc.string({ unit: "binary", minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 20_480 }))
      .map(([unit, length]) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length));
    const input = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.string({ unit: "binary", maxLength: 300 }),
      fc.string({ unit: "grapheme", maxLength: 100 }),
      fc.stringMatching(/^[A-Za-z0-9_-]*(\.[A-Za-z0-9_-]*){0,5}$/),
      fc.stringMatching(/^[\w+/=\s-]*\.[\w+/=\s-]*\.[\w+/=\s-]*$/),
      fc.tuple(segment, segment, segment).map((parts) => parts.join(".")),
      fc.tuple(trustedHeader, segment, segment).map((parts) => parts.join(".")),
      nearSizeLimit,
      long,
    );
    await fc.assert(
      fc.asyncProperty(input, async (token) => {
        await expectRejected(verifier, token);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

/** A character position: `at` modulo the length, counted from the end when `fromEnd`. */
interface Position {
  readonly at: number;
  readonly fromEnd: boolean;
}

type Mutation =
  | { readonly kind: "replace"; readonly segment: number; readonly at: Position; readonly text: string }
  | { readonly kind: "insert"; readonly segment: number; readonly at: Position; readonly text: string }
  | { readonly kind: "delete"; readonly segment: number; readonly at: Position; readonly count: number }
  | { readonly kind: "flip"; readonly segment: number; readonly at: Position; readonly bit: number }
  | { readonly kind: "swap"; readonly a: number; readonly b: number }
  | { readonly kind: "duplicate"; readonly from: number; readonly to: number; readonly replace: boolean }
  | { readonly kind: "case"; readonly segment: number | "all"; readonly to: "upper" | "lower" | "one"; readonly at: Position }
  | { readonly kind: "reformat"; readonly segment: number; readonly indent: number; readonly reverse: boolean }
  | { readonly kind: "append" | "prepend"; readonly text: string };

const anyChar = fc.oneof(
  fc.constantFrom(...Array.from(ALPHABET), ".", "=", "+", "/", " ", "\n", "\t", "\u0000", "é", "\u200b"),
  fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
);
const someText = fc.oneof(fc.string({ unit: anyChar, minLength: 1, maxLength: 4 }), fc.string({ unit: "binary", minLength: 1, maxLength: 8 }));
const segmentIndex = fc.nat({ max: 3 });
// Segment ends matter most: the last character carries the unused bits of canonical base64url.
const position: fc.Arbitrary<Position> = fc.record({ at: fc.oneof(fc.nat({ max: 3 }), fc.nat()), fromEnd: fc.boolean() });

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("replace"), segment: segmentIndex, at: position, text: anyChar }),
  fc.record({ kind: fc.constant("insert"), segment: segmentIndex, at: position, text: someText }),
  fc.record({ kind: fc.constant("delete"), segment: segmentIndex, at: position, count: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant("flip"), segment: segmentIndex, at: position, bit: fc.nat({ max: 5 }) }),
  // The unused low bits of a segment's last character: the same bytes to a lax decoder, another string.
  fc.record({ kind: fc.constant("flip"), segment: segmentIndex, at: fc.constant({ at: 0, fromEnd: true }), bit: fc.nat({ max: 3 }) }),
  fc.record({ kind: fc.constant("swap"), a: segmentIndex, b: segmentIndex }),
  fc.record({ kind: fc.constant("duplicate"), from: segmentIndex, to: segmentIndex, replace: fc.boolean() }),
  fc.record({
    kind: fc.constant("case"),
    segment: fc.oneof(segmentIndex, fc.constant("all" as const)),
    to: fc.constantFrom("upper" as const, "lower" as const, "one" as const),
    at: position,
  }),
  fc.record({ kind: fc.constant("reformat"), segment: fc.nat({ max: 1 }), indent: fc.nat({ max: 2 }), reverse: fc.boolean() }),
  fc.record({ kind: fc.constantFrom("append" as const, "prepend" as const), text: someText }),
);

function indexIn(length: number, { at, fromEnd }: Position): number {
  const index = at % length;
  return fromEnd ? length - 1 - index : index;
}

function applyMutation(token: string, m: Mutation): string {
  if (m.kind === "append") return `${token}${m.text}`;
  if (m.kind === "prepend") return `${m.text}${token}`;
  const parts = token.split(".");
  const index = (n: number): number => n % parts.length;
  const edit = (n: number, change: (segment: string) => string): string => {
    const i = index(n);
    parts[i] = change(parts[i] ?? "");
    return parts.join(".");
  };
  /** Replaces the character at a position of a non-empty segment. */
  const editChar = (n: number, at: Position, change: (c: string) => string): string =>
    edit(n, (s) => {
      if (s.length === 0) return s;
      const i = indexIn(s.length, at);
      return `${s.slice(0, i)}${change(s.charAt(i))}${s.slice(i + 1)}`;
    });
  switch (m.kind) {
    case "replace":
      return editChar(m.segment, m.at, () => m.text);
    case "insert":
      return edit(m.segment, (s) => {
        const i = indexIn(s.length + 1, m.at);
        return `${s.slice(0, i)}${m.text}${s.slice(i)}`;
      });
    case "delete":
      return edit(m.segment, (s) => {
        if (s.length === 0) return s;
        const i = indexIn(s.length, m.at);
        return `${s.slice(0, i)}${s.slice(i + m.count)}`;
      });
    case "flip":
      return editChar(m.segment, m.at, (c) => {
        const value = ALPHABET.indexOf(c);
        return value >= 0 ? ALPHABET.charAt(value ^ (1 << m.bit)) : String.fromCharCode(c.charCodeAt(0) ^ (1 << m.bit));
      });
    case "swap": {
      const [a, b] = [index(m.a), index(m.b)];
      [parts[a], parts[b]] = [parts[b] ?? "", parts[a] ?? ""];
      return parts.join(".");
    }
    case "duplicate": {
      const copy = parts[index(m.from)] ?? "";
      if (m.replace) parts[index(m.to)] = copy;
      else parts.splice(index(m.to), 0, copy);
      return parts.join(".");
    }
    case "case": {
      const { segment } = m;
      if (segment === "all") return m.to === "upper" ? token.toUpperCase() : token.toLowerCase();
      if (m.to === "one") return editChar(segment, m.at, (c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()));
      return edit(segment, (s) => (m.to === "upper" ? s.toUpperCase() : s.toLowerCase()));
    }
    case "reformat":
      // Same JSON meaning, other bytes: the token string is what was signed, not its meaning.
      return edit(m.segment, (s) => {
        let value: unknown;
        try {
          value = JSON.parse(Buffer.from(s, "base64url").toString("utf8"));
        } catch {
          return s;
        }
        if (m.reverse && isPlainObject(value)) value = Object.fromEntries(Object.entries(value).reverse());
        return base64urlOf(JSON.stringify(value, null, m.indent));
      });
  }
}

describe("mutations of a valid token", () => {
  it("verify only when byte-identical to the original; otherwise only a VerifyError escapes", async () => {
    const verifier = newVerifier();
    const originals = new Map<string, ServiceClaims>();
    for (const token of validTokens) originals.set(token, await verifier.verify(token));
    let identical = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...validTokens), fc.array(mutation, { minLength: 1, maxLength: 3 }), async (original, mutations) => {
        const mutated = mutations.reduce(applyMutation, original);
        const outcome = await outcomeOf(verifier, mutated, [mutated, original]);
        if (mutated === original) {
          identical++;
          expect(outcome).toEqual({ claims: originals.get(original) });
        } else {
          expect("error" in outcome).toBe(true);
        }
      }),
      { numRuns: NUM_RUNS },
    );
    // Some mutations are no-ops by construction (swap a segment with itself); the identity branch ran.
    expect(identical).toBeGreaterThan(0);
    for (const token of validTokens) await expect(verifier.verify(token)).resolves.toEqual(originals.get(token));
  });
});

/** The header a signer's token must carry, by the profile, independently of the engine. */
function headerAccepted(header: unknown, signer: TestSigningKey): boolean {
  if (!isPlainObject(header)) return false;
  const typ = own(header, "typ");
  return (
    !Object.hasOwn(header, "crit") &&
    typeof typ === "string" &&
    ["at+jwt", "application/at+jwt"].includes(typ.toLowerCase()) &&
    own(header, "alg") === signer.alg &&
    own(header, "kid") === signer.kid
  );
}

/** An independent reading of the token profile: the claims a verifier must return, or undefined. */
function expectedClaims(payload: unknown, kid: string): ServiceClaims | undefined {
  if (!isPlainObject(payload)) return undefined;
  const iss = own(payload, "iss");
  const audClaim = own(payload, "aud");
  const aud = Array.isArray(audClaim) && audClaim.length === 1 ? (audClaim[0] as unknown) : audClaim;
  const [exp, iat, nbf] = [own(payload, "exp"), own(payload, "iat"), own(payload, "nbf")];
  const [sub, clientId, jti] = [own(payload, "sub"), own(payload, "client_id"), own(payload, "jti")];
  const scope = own(payload, "scope");
  const tenantId = own(payload, "tenant_id");
  if (iss !== TEST_ISSUER || aud !== TEST_AUDIENCE) return undefined;
  if (!isNumericDate(exp) || !isNumericDate(iat) || !isNumericDate(nbf)) return undefined;
  if (now >= exp + TOLERANCE_SEC || nbf > now + TOLERANCE_SEC || iat > now + TOLERANCE_SEC) return undefined;
  if (exp <= iat || exp <= nbf || exp - iat > MAX_LIFETIME_SEC) return undefined;
  if (!isIdentifier(sub) || !isIdentifier(jti) || clientId !== sub) return undefined;
  if (scope !== undefined && !isScope(scope)) return undefined;
  if (tenantId !== undefined && !isIdentifier(tenantId)) return undefined;
  return {
    iss,
    sub,
    clientId: sub,
    aud,
    scopes: scope === undefined || scope === "" ? [] : scope.split(" "),
    tenantId,
    jti,
    iat,
    nbf,
    exp,
    kid,
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function own(object: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(object, name) ? object[name] : undefined;
}

function isNumericDate(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}

function isIdentifier(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= MAX_IDENTIFIER_LENGTH;
}

/** RFC 6749 §3.3: single-space-separated tokens of NQCHAR; the empty scope is allowed. */
function isScope(value: unknown): value is string {
  if (typeof value !== "string") return false;
  if (value === "") return true;
  return value.split(" ").every((token) => {
    if (token.length === 0) return false;
    for (let i = 0; i < token.length; i++) {
      const code = token.charCodeAt(i);
      if (code < 0x21 || code > 0x7e || code === 0x22 || code === 0x5c) return false;
    }
    return true;
  });
}

/** Strings the generators chose (values, and member names that are not the profile's own). */
function randomStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) for (const item of value) randomStrings(item, out);
  else if (isPlainObject(value)) {
    for (const [name, item] of Object.entries(value)) {
      if (!PROFILE_NAMES.has(name)) out.push(name);
      randomStrings(item, out);
    }
  }
  return out;
}


const CLAIM_NAMES = ["iss", "sub", "client_id", "aud", "exp", "nbf", "iat", "jti", "scope", "tenant_id"] as const;
const HEADER_NAMES = ["alg", "kid", "typ", "crit", "jku", "jwk", "x5u", "x5c", "b64", "cty"] as const;
const PROFILE_NAMES = new Set<string>([...CLAIM_NAMES, ...HEADER_NAMES]);

type Change =
  | { readonly drop: string }
  | { readonly set: string; readonly value: unknown }
  /** Sets sub and client_id together, so a random subject can still satisfy sub === client_id. */
  | { readonly subject: string };

function applyChanges(base: Readonly<Record<string, unknown>>, changes: readonly Change[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const change of changes) {
    if ("drop" in change) Reflect.deleteProperty(out, change.drop);
    else if ("subject" in change) [out["sub"], out["client_id"]] = [change.subject, change.subject];
    else Object.defineProperty(out, change.set, { value: change.value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** A member written a second time, in front, directly in the JSON text (JSON.stringify never does). */
interface Duplicate {
  readonly name: string;
  readonly value: unknown;
  /** Spell the name with a \u escape: the same member to any JSON reader. */
  readonly escaped: boolean;
}

interface Payload {
  readonly value: unknown;
  readonly duplicate?: Duplicate | undefined;
}

function payloadText({ value, duplicate }: Payload): string {
  const text = JSON.stringify(value);
  if (duplicate === undefined || !isPlainObject(value) || Object.keys(value).length === 0) return text;
  const name = duplicate.escaped ? `"\\u${duplicate.name.charCodeAt(0).toString(16).padStart(4, "0")}${JSON.stringify(duplicate.name).slice(2)}` : JSON.stringify(duplicate.name);
  return `{${name}:${JSON.stringify(duplicate.value)},${text.slice(1)}`;
}

const now = TEST_NOW_SEC;
const json = fc.jsonValue({ maxDepth: 2 });
const identifierish = fc.oneof(
  fc.constantFrom("orders", "payments", "", "s".repeat(MAX_IDENTIFIER_LENGTH), "s".repeat(MAX_IDENTIFIER_LENGTH + 1)),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: "binary", maxLength: 10 }),
);
const BOUNDARY_OFFSETS = [-931, -930, -929, -900, -870, -631, -630, -600, -31, -30, -29, -1, 0, 1, 29, 30, 31, 600, 870, 899, 900, 901];
const time = fc.oneof(
  fc.constantFrom(...BOUNDARY_OFFSETS.map((offset) => now + offset)),
  fc.integer({ min: now - 1200, max: now + 1200 }),
  fc.double({ min: now - 1200, max: now + 1200, noNaN: true }),
  fc.constantFrom<unknown>(-1, -0.5, 0, 1e308, String(now), null),
);
const scope = fc.oneof(
  fc.constantFrom<unknown>("", "a b", "a  b", " a", "a ", 'a"b', "a\\b", "a\u00e9", "a\tb", "payments:charge", ["payments:charge"]),
  fc.stringMatching(/^[\x21\x23-\x5b\x5d-\x7e]{1,10}( [\x21\x23-\x5b\x5d-\x7e]{1,10}){0,3}$/),
  fc.string({ maxLength: 20 }),
);
const claimValues: Readonly<Record<(typeof CLAIM_NAMES)[number], fc.Arbitrary<unknown>>> = {
  iss: fc.constantFrom<unknown>(TEST_ISSUER, `${TEST_ISSUER}/`, TEST_ISSUER.toUpperCase(), "", [TEST_ISSUER], 7),
  sub: identifierish,
  client_id: identifierish,
  jti: identifierish,
  tenant_id: identifierish,
  aud: fc.constantFrom<unknown>(
    TEST_AUDIENCE, [TEST_AUDIENCE], [TEST_AUDIENCE, TEST_AUDIENCE], [TEST_AUDIENCE, "orders"], ["orders", TEST_AUDIENCE],
    [], [1], [[TEST_AUDIENCE]], "orders", TEST_AUDIENCE.toUpperCase(), `${TEST_AUDIENCE} `,
  ),
  exp: time,
  nbf: fc.oneof(time, fc.constantFrom(-1, -0.5, 0)),
  iat: time,
  scope,
};
const claimChange: fc.Arbitrary<Change> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ drop: fc.constantFrom(...CLAIM_NAMES) }) },
  {
    weight: 4,
    arbitrary: fc
      .constantFrom(...CLAIM_NAMES)
      .chain((name) => fc.record({ set: fc.constant(name), value: fc.oneof({ weight: 4, arbitrary: claimValues[name] }, { weight: 1, arbitrary: json }) })),
  },
  { weight: 1, arbitrary: fc.record({ subject: identifierish }) },
  { weight: 1, arbitrary: fc.record({ set: fc.string({ maxLength: 12 }), value: json }) },
);
/** Claims inside the profile most of the time, with times around every boundary. */
const validishClaims = fc
  .record({
    // The time the others are derived from, and its offset from now: boundaries often, a hair either side.
    anchor: fc.constantFrom("iat" as const, "exp" as const),
    offset: fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: -600, max: 30 }) },
      { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...BOUNDARY_OFFSETS), fc.constantFrom(0, 0, 0.25, -0.25)).map(([a, b]) => a + b) },
    ),
    lifetime: fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 1, max: 900 }) },
      { weight: 1, arbitrary: fc.constantFrom(-1, 0, 1, 899, 900, 901) },
      { weight: 1, arbitrary: fc.double({ min: -10, max: 1000, noNaN: true }) },
    ),
    nbf: fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: -60, max: 0 }).map((offset) => ({ from: "iat" as const, offset })) },
      { weight: 1, arbitrary: fc.constantFrom(-2, -1, -0.25, 0, 1).map((offset) => ({ from: "exp" as const, offset })) },
      { weight: 1, arbitrary: fc.constantFrom(29, 29.75, 30, 30.25, 31).map((offset) => ({ from: "now" as const, offset })) },
    ),
    jti: fc.stringMatching(/^[\w-]{1,40}$/),
    audAsArray: fc.boolean(),
    scope: fc.option(scope, { nil: undefined }),
    tenantId: fc.option(identifierish, { nil: undefined }),
  })
  .map((c): Record<string, unknown> => {
    const [iat, exp] = c.anchor === "iat" ? [now + c.offset, now + c.offset + c.lifetime] : [now + c.offset - c.lifetime, now + c.offset];
    return {
      iss: TEST_ISSUER,
      sub: "orders",
      client_id: "orders",
      aud: c.audAsArray ? [TEST_AUDIENCE] : TEST_AUDIENCE,
      iat,
      nbf: { iat, exp, now }[c.nbf.from] + c.nbf.offset,
      exp,
      jti: c.jti,
      ...(c.scope === undefined ? {} : { scope: c.scope }),
      ...(c.tenantId === undefined ? {} : { tenant_id: c.tenantId }),
    };
  });
/** Claims well inside the profile, for properties that vary something else. */
const validClaims = fc.stringMatching(/^[\w-]{1,40}$/).map((jti): Record<string, unknown> => ({
  iss: TEST_ISSUER,
  sub: "orders",
  client_id: "orders",
  aud: TEST_AUDIENCE,
  iat: now,
  nbf: now,
  exp: now + 600,
  jti,
}));
const duplicate: fc.Arbitrary<Duplicate | undefined> = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.record({ name: fc.constantFrom(...CLAIM_NAMES), value: fc.oneof(fc.constantFrom("orders", TEST_ISSUER, TEST_AUDIENCE, now), json), escaped: fc.boolean() }) },
);
// Often no change at all, so that a good share of tokens lands inside the profile.
const changes = (change: fc.Arbitrary<Change>, maxLength: number): fc.Arbitrary<Change[]> =>
  fc.oneof(fc.constant<Change[]>([]), fc.array(change, { minLength: 1, maxLength }));
const signerAlg = fc.constantFrom("EdDSA" as const, "ES256" as const);

interface Tally {
  accepted: number;
  rejected: number;
}

describe("tokens re-signed by a trusted key", () => {
  let verifier: Verifier;
  let signedHeader: fc.Arbitrary<readonly ["EdDSA" | "ES256", Record<string, unknown>]>;
  beforeAll(() => {
    verifier = newVerifier();
    const headerValues: Readonly<Record<(typeof HEADER_NAMES)[number], fc.Arbitrary<unknown>>> = {
      alg: fc.constantFrom<unknown>("EdDSA", "ES256", "none", "HS256", "RS256", "eddsa", "EDDSA", "", null),
      kid: fc.constantFrom<unknown>(ed.kid, es.kid, untrusted.kid, "", "constructor", "__proto__", ed.kid.toUpperCase(), "k".repeat(257), 1),
      typ: fc.constantFrom<unknown>("at+jwt", "AT+JWT", "at+JWT", "application/at+jwt", "Application/At+Jwt", "jwt", "JWT", "at+jwt ", "application/jwt", "", null, ["at+jwt"]),
      crit: fc.constantFrom<unknown>(["b64"], [], ["exp"]),
      jku: fc.constant("https://evil.test/jwks.json"),
      x5u: fc.constant("https://evil.test/cert.pem"),
      jwk: fc.constant(untrusted.publicJwk),
      x5c: fc.constant(["AAAA"]),
      b64: fc.constant(false),
      cty: fc.constantFrom("JWT", "at+jwt"),
    };
    const headerChange: fc.Arbitrary<Change> = fc.oneof(
      { weight: 1, arbitrary: fc.record({ drop: fc.constantFrom("alg", "kid", "typ") }) },
      {
        weight: 4,
        // The members the profile checks come up most.
        arbitrary: fc
          .constantFrom(...HEADER_NAMES, "alg", "alg", "kid", "kid", "typ", "typ", "crit")
          .chain((name) => fc.record({ set: fc.constant(name), value: fc.oneof({ weight: 4, arbitrary: headerValues[name] }, { weight: 1, arbitrary: json }) })),
      },
      { weight: 1, arbitrary: fc.record({ set: fc.string({ maxLength: 12 }), value: json }) },
    );
    /** A profile member: kept, replaced by a near value (the other trusted key's alg or kid among them), or absent. */
    const member = (kept: unknown, near: fc.Arbitrary<unknown>): fc.Arbitrary<{ readonly value: unknown } | undefined> =>
      fc.oneof(
        { weight: 8, arbitrary: fc.constant({ value: kept }) },
        { weight: 3, arbitrary: near.map((value) => ({ value })) },
        { weight: 1, arbitrary: json.map((value) => ({ value })) },
        { weight: 1, arbitrary: fc.constant(undefined) },
      );
    signedHeader = signerAlg.chain((alg) => {
      const key = alg === "EdDSA" ? ed : es;
      return fc
        .record({
          alg: member(alg, fc.oneof(fc.constantFrom("EdDSA", "ES256"), headerValues.alg)),
          kid: member(key.kid, fc.oneof(fc.constantFrom(ed.kid, es.kid), headerValues.kid)),
          typ: member("at+jwt", headerValues.typ),
          extra: changes(headerChange, 2),
        })
        .map(({ extra, ...members }) => {
          const header: Record<string, unknown> = {};
          for (const [name, spec] of Object.entries(members)) if (spec !== undefined) header[name] = spec.value;
          return [alg, applyChanges(header, extra)] as const;
        });
    });
  });

  /** Signs with a trusted key and holds the verifier to the oracle. */
  async function check(alg: "EdDSA" | "ES256", header: unknown, payload: Payload, tally: Tally): Promise<void> {
    const key = alg === "EdDSA" ? ed : es;
    const headerText = JSON.stringify(header);
    const claimsText = payloadText(payload);
    const token = signRawToken(key, headerText, claimsText);
    // Judge what the verifier will read: the JSON text as signed, parsed back.
    const [headerRead, payloadRead] = [JSON.parse(headerText) as unknown, JSON.parse(claimsText) as unknown];
    const duplicated = payload.duplicate !== undefined && isPlainObject(payload.value) && Object.hasOwn(payload.value, payload.duplicate.name);
    const expected = headerAccepted(headerRead, key) && !duplicated ? expectedClaims(payloadRead, key.kid) : undefined;
    const outcome = await outcomeOf(verifier, token, [token, ...randomStrings(headerRead), ...randomStrings(payloadRead)]);
    if (expected === undefined) {
      tally.rejected++;
      expect(outcome).toMatchObject({ error: expect.any(VerifyError) as unknown });
      return;
    }
    tally.accepted++;
    expect(outcome).toEqual({ claims: expected });
    if (!("claims" in outcome)) return;
    const { claims } = outcome;
    expect(claims.sub).toBe(claims.clientId);
    expect([claims.iss, claims.aud]).toEqual([TEST_ISSUER, TEST_AUDIENCE]);
    expect(claims.exp - claims.iat).toBeLessThanOrEqual(MAX_LIFETIME_SEC);
    // A repeat comes from the cache and must say the same.
    await expect(verifier.verify(token)).resolves.toBe(claims);
  }

  it("with changed claims: verify exactly when the claims satisfy the profile", async () => {
    const tally: Tally = { accepted: 0, rejected: 0 };
    const payload = fc.record({ value: fc.tuple(validishClaims, changes(claimChange, 3)).map(([base, list]) => applyChanges(base, list)), duplicate });
    await fc.assert(
      fc.asyncProperty(signerAlg, payload, async (alg, claims) => {
        await check(alg, profileHeader(alg === "EdDSA" ? ed : es), claims, tally);
      }),
      { numRuns: NUM_RUNS },
    );
    expect(tally.accepted).toBeGreaterThan(NUM_RUNS / 50);
    expect(tally.rejected).toBeGreaterThan(NUM_RUNS / 50);
  });

  it("with changed headers: verify exactly when typ, alg and kid fit the signing key and there is no crit", async () => {
    const tally: Tally = { accepted: 0, rejected: 0 };
    await fc.assert(
      fc.asyncProperty(signedHeader, validClaims, async ([alg, header], claims) => {
        await check(alg, header, { value: claims }, tally);
      }),
      { numRuns: NUM_RUNS },
    );
    expect(tally.accepted).toBeGreaterThan(NUM_RUNS / 50);
    expect(tally.rejected).toBeGreaterThan(NUM_RUNS / 50);
  });

  it("with random JSON for header or payload: never verify, and only a VerifyError escapes", async () => {
    const tally: Tally = { accepted: 0, rejected: 0 };
    const randomJson = fc.oneof(fc.object(), json).map((value) => ({ value }));
    const sides = fc.oneof(
      fc.record({ header: randomJson, payload: fc.constant(undefined) }),
      fc.record({ header: fc.constant(undefined), payload: randomJson }),
      fc.record({ header: randomJson, payload: randomJson }),
    );
    await fc.assert(
      fc.asyncProperty(signerAlg, sides, validClaims, async (alg, { header, payload }, claims) => {
        const headerValue = header === undefined ? profileHeader(alg === "EdDSA" ? ed : es) : header.value;
        await check(alg, headerValue, { value: payload === undefined ? claims : payload.value }, tally);
      }),
      { numRuns: NUM_RUNS / 2 },
    );
    expect(tally).toEqual({ accepted: 0, rejected: NUM_RUNS / 2 });
  });
});
