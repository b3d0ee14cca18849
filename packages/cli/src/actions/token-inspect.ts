import { createRemoteKeySource, createVerifier, VerifierOptionsError, VerifyError, type RemoteKeySource, type ServiceClaims } from "@trustmesh/verifier";
import { decodeUnverified } from "@trustmesh/verifier/unverified";
import { stringValue, type CommandContext } from "../command.js";
import { EXIT, usageError, type ExitCode } from "../exit-codes.js";
import { explainChecks, type Check } from "../inspect-checks.js";
import { readAdminKeyFile } from "../key-files.js";
import { isoTime, printable, type CommandResult } from "../output.js";
import { readTokenFromStdin } from "../read-stdin.js";

/** Stands in for an audience when neither --audience nor the token names one: matches nothing. */
const NO_AUDIENCE = "(no audience)";
const MARKS = { pass: "✓", fail: "✗", skip: "–" } as const;
const TIME_CLAIMS = new Set(["iat", "nbf", "exp"]);

type Verdict = { readonly valid: true; readonly claims: ServiceClaims } | { readonly valid: false; readonly code: string; readonly message: string; readonly claim?: string };

export async function inspectToken(context: CommandContext): CommandResult {
  const { values, out } = context;
  const token = await readToken(context);
  const decoded = decodeUnverified(token);
  const issuer = stringValue(values, "iss") ?? (await readAdminKeyFile(context.globals.adminKeyFile)).issuer;
  const tokenAud = decoded?.payload["aud"];
  const givenAudience = stringValue(values, "audience");
  const audience = givenAudience ?? (typeof tokenAud === "string" && tokenAud !== "" ? tokenAud : NO_AUDIENCE);
  const jwksUrl = stringValue(values, "jwks-url") ?? `${issuer.replace(/\/+$/, "")}/.well-known/jwks.json`;

  const warnings = new Set<string>();
  const logger = {
    warn(fields: Readonly<Record<string, unknown>>, message: string) {
      const { url, error } = fields;
      warnings.add(typeof url === "string" && typeof error === "string" ? `could not fetch the JWKS at ${url}: ${error}` : message);
    },
  };
  let keySource: RemoteKeySource;
  try {
    keySource = createRemoteKeySource({ url: jwksUrl, fetchTimeoutMs: context.globals.timeoutMs, logger });
  } catch (error) {
    if (error instanceof VerifierOptionsError) throw usageError(`--jwks-url ${jwksUrl.slice(0, 200)}: ${error.message}`);
    throw error;
  }
  try {
    const loaded = await keySource.refresh();
    const keysUnavailable = loaded ? undefined : `the JWKS at ${jwksUrl} could not be fetched`;
    const checks = await explainChecks({
      token,
      decoded,
      issuer,
      audience,
      audienceFromToken: givenAudience === undefined,
      nowSec: Date.now() / 1000,
      key: (kid) => keySource.current(kid),
      keysUnavailable,
    });
    const verdict = await verify(token, issuer, audience, keySource, logger);
    for (const warning of warnings) out.note(`trustctl: ${warning}`);

    if (out.json) {
      out.data({
        header: decoded?.header ?? null,
        claims: decoded?.payload ?? null,
        issuer,
        audience: givenAudience ?? null,
        jwksUrl,
        checks: checks.map((item) => ({ name: item.name, ok: item.outcome === "skip" ? null : item.outcome === "pass", detail: item.detail })),
        verdict,
      });
    } else {
      // Every field came from the token: keep its control characters off the terminal.
      printHuman((text = "") => {
        out.line(printable(text));
      }, decoded, checks, verdict);
    }
    return exitCodeOf(verdict);
  } finally {
    await keySource.close();
  }
}

async function readToken({ operands, io }: CommandContext): Promise<string> {
  const [operand] = operands as [string];
  return operand === "-" ? readTokenFromStdin(io) : operand.trim();
}

async function verify(token: string, issuer: string, audience: string, keySource: RemoteKeySource, logger: { warn(fields: Readonly<Record<string, unknown>>, message: string): void }): Promise<Verdict> {
  let verifier;
  try {
    verifier = createVerifier({ issuer, audience, keySource, cacheMaxEntries: 0, logger });
  } catch (error) {
    if (error instanceof VerifierOptionsError) throw usageError(`cannot verify against issuer "${issuer.slice(0, 200)}": ${error.message}`);
    throw error;
  }
  try {
    return { valid: true, claims: await verifier.verify(token) };
  } catch (error) {
    if (!(error instanceof VerifyError)) throw error;
    return { valid: false, code: error.code, message: error.message, ...(error.claim === undefined ? {} : { claim: error.claim }) };
  }
}

function exitCodeOf(verdict: Verdict): ExitCode {
  if (verdict.valid) return EXIT.OK;
  // No key set: the issuer's JWKS was unreachable, which says nothing about the token.
  return verdict.code === "ERR_KEYS_UNAVAILABLE" ? EXIT.UNREACHABLE : EXIT.TOKEN_INVALID;
}

function printHuman(line: (text?: string) => void, decoded: ReturnType<typeof decodeUnverified>, checks: readonly Check[], verdict: Verdict): void {
  if (decoded === undefined) {
    line("the token cannot be decoded: it is not a compact JWS with a JSON header and claims");
  } else {
    for (const [title, members] of [["header", decoded.header], ["claims", decoded.payload]] as const) {
      line(title);
      const width = Math.max(0, ...Object.keys(members).map((name) => name.length));
      for (const [name, value] of Object.entries(members)) {
        const text = typeof value === "string" ? value : JSON.stringify(value);
        const when = TIME_CLAIMS.has(name) && typeof value === "number" && Number.isFinite(value) ? `  (${isoTime(value * 1000)})` : "";
        line(`  ${name.padEnd(width)}  ${text}${when}`);
      }
    }
  }
  line("checks");
  const width = Math.max(...checks.map((item) => item.name.length));
  for (const item of checks) line(`  ${MARKS[item.outcome]} ${item.name.padEnd(width)}  ${item.detail}`);
  if (verdict.valid) {
    const { claims } = verdict;
    line(`verdict: ✓ valid: ${claims.sub} → ${claims.aud}, ${claims.scopes.length === 0 ? "no scopes" : `scopes ${claims.scopes.join(" ")}`}, until ${isoTime(claims.exp * 1000)}`);
  } else {
    line(`verdict: ✗ ${verdict.code}: ${verdict.message}${verdict.claim === undefined ? "" : ` (${verdict.claim})`}`);
  }
}
