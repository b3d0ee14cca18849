/**
 * `pnpm demo`: the story of one service token, told against the real verifier. Each step says
 * what a caller does and what trustmesh answers; the run exits non-zero if any answer is not
 * the one the step states. The issuer and the gRPC services join this story as they land.
 */
import { createVerifier, InMemoryRevocationList, VerifyError, type VerifyErrorCode } from "@trustmesh/verifier";
import { generateTestKey, jwksOf, mintTestToken, profileHeader, profileClaims, signRawToken, TEST_AUDIENCE, TEST_ISSUER } from "@trustmesh/testing";

interface Step {
  readonly says: string;
  readonly token: () => Promise<string> | string;
  readonly expect: "accepted" | VerifyErrorCode;
}

const issuerKey = await generateTestKey("EdDSA");
const attackerKey = await generateTestKey("EdDSA");
const revocation = new InMemoryRevocationList();
const verifier = createVerifier({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwks: jwksOf(issuerKey), revocation });
const nowSec = (): number => Math.floor(Date.now() / 1000);
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");
const revokedJti = "demo-revoked-jti";

const steps: Step[] = [
  { says: "orders calls payments with a token for audience payments", token: () => mintTestToken(issuerKey), expect: "accepted" },
  { says: "the same token again (served from the verified-token cache)", token: cachedToken, expect: "accepted" },
  { says: "a token for another audience", token: () => mintTestToken(issuerKey, { claims: { aud: "inventory" } }), expect: "ERR_AUDIENCE_MISMATCH" },
  { says: "a token that expired a minute ago", token: () => mintTestToken(issuerKey, { nowSec: nowSec() - 660 }), expect: "ERR_TOKEN_EXPIRED" },
  { says: "a token that claims to live a day", token: () => mintTestToken(issuerKey, { lifetimeSec: 86_400 }), expect: "ERR_TOKEN_LIFETIME_EXCEEDED" },
  { says: "a token forged with the attacker's key under the issuer's kid", token: () => signRawToken(attackerKey, profileHeader(issuerKey), profileClaims()), expect: "ERR_SIGNATURE_INVALID" },
  { says: "a token with alg none", token: () => `${b64({ alg: "none", typ: "at+jwt", kid: issuerKey.kid })}.${b64(profileClaims())}.`, expect: "ERR_TOKEN_MALFORMED" },
  { says: "a token claiming HS256, keyed with the public key (key confusion)", token: () => signRawToken(issuerKey, { ...profileHeader(issuerKey), alg: "HS256" }, profileClaims()), expect: "ERR_ALG_NOT_ALLOWED" },
  { says: "a token carrying its own key in the header (jwk injection)", token: () => signRawToken(attackerKey, { ...profileHeader(attackerKey), jwk: attackerKey.publicJwk }, profileClaims()), expect: "ERR_KEY_NOT_FOUND" },
  { says: "a token whose jti the operator revoked", token: revokedToken, expect: "ERR_TOKEN_REVOKED" },
];

let cached: string | undefined;
async function cachedToken(): Promise<string> {
  cached ??= await mintTestToken(issuerKey);
  await verifier.verify(cached);
  return cached;
}

async function revokedToken(): Promise<string> {
  revocation.revokeToken(revokedJti);
  return mintTestToken(issuerKey, { claims: { jti: revokedJti } });
}

console.log("trustmesh demo: one verifier (issuer %s, audience %s), embedded keys and revocation list\n", TEST_ISSUER, TEST_AUDIENCE);
let failures = 0;
for (const step of steps) {
  let outcome: string;
  try {
    const claims = await verifier.verify(await step.token());
    outcome = "accepted";
    if (step.expect === "accepted") outcome += ` (caller ${claims.sub}, scopes ${claims.scopes.join(" ")})`;
  } catch (error) {
    outcome = error instanceof VerifyError ? error.code : "unexpected error";
  }
  const ok = outcome.startsWith(step.expect);
  if (!ok) failures++;
  console.log(`${ok ? "ok  " : "FAIL"} ${step.says}\n     -> ${outcome}${ok ? "" : ` (expected ${step.expect})`}`);
}
const stats = verifier.cacheStats();
console.log(`\n${steps.length - failures}/${steps.length} steps behaved as stated; cache hits ${stats.hits}, misses ${stats.misses}`);
process.exitCode = failures === 0 ? 0 : 1;
