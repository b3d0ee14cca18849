import { status } from "@grpc/grpc-js";
import { adminV1, type issuerV1 } from "@trustmesh/proto";
import { createRevocationSubscriber, type RevocationSubscriber } from "@trustmesh/revocation";
import { generateTestKey, mintClientAssertion, type TestSigningKey } from "@trustmesh/testing";
import { useNats } from "@trustmesh/testing/vitest";
import { createRemoteKeySource, createVerifier, VerifyError, type RemoteKeySource, type Verifier } from "@trustmesh/verifier";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, startTestIssuer, statusOf, unary, type TestIssuer } from "./issuer-harness.js";

const WAIT_MS = 5_000;

/** Resolves once `verify(token)` is refused as revoked by the subscriber's denylist. */
async function revokedAt(subscriber: RevocationSubscriber, verifier: Verifier, token: string): Promise<string | undefined> {
  const reasonOf = async (): Promise<string | undefined> => {
    try {
      await verifier.verify(token);
      return undefined;
    } catch (error) {
      return error instanceof VerifyError && error.code === "ERR_TOKEN_REVOKED" ? error.reason : undefined;
    }
  };
  const already = await reasonOf();
  if (already !== undefined) return already;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error("the subscriber never revoked the token"));
    }, WAIT_MS);
    const stop = subscriber.onChange(() => {
      void reasonOf().then((reason) => {
        if (reason === undefined) return;
        clearTimeout(timer);
        stop();
        resolve(reason);
      });
    });
  });
}

describe("revocation through the issuer (real NATS)", () => {
  const nats = useNats();
  let issuer: TestIssuer;
  let subscriber: RevocationSubscriber;
  let keySource: RemoteKeySource;
  let verifier: Verifier;
  let orders: TestSigningKey;

  const issue = async (audience = "payments"): Promise<issuerV1.TokenResponse> => {
    const clientAssertion = await mintClientAssertion(orders, { serviceId: "orders", issuer: issuer.running.issuer });
    return unary<issuerV1.TokenResponse>(issuer.tokens, "issueToken", { clientAssertion, audience, scopes: ["payments:charge"] });
  };
  const admin = async <T>(method: string, request: object): Promise<T> => unary<T>(issuer.admin, method, request, bearer(await issuer.adminToken()));

  beforeAll(async () => {
    issuer = await startTestIssuer({ TRUSTMESH_NATS_URL: nats().url });
    orders = await generateTestKey();
    const { x } = orders.publicJwk;
    await admin("registerService", { id: "orders", tenantId: "acme", keys: [{ kty: "OKP", crv: "Ed25519", x, kid: orders.kid, alg: "EdDSA", use: "sig" }], audiences: [{ audience: "payments", scopes: ["payments:charge"] }] });
    subscriber = createRevocationSubscriber({ servers: nats().url, serviceId: "payments" });
    await subscriber.ready();
    keySource = createRemoteKeySource({ url: `${issuer.running.httpUrl}/.well-known/jwks.json` });
    await keySource.ready();
    verifier = createVerifier({ issuer: issuer.running.issuer, audience: "payments", keySource, revocation: subscriber });
  });
  afterAll(async () => {
    await subscriber.close();
    await keySource.close();
    await issuer.close();
  });

  it("RevokeToken by jti: the token is refused once the event is applied", async () => {
    const token = await issue();
    const claims = await verifier.verify(token.accessToken);
    const response = await admin<adminV1.RevokeTokenResponse>("revokeToken", { target: { $case: "jti", value: claims.jti }, sub: claims.sub, expUnix: claims.exp, reason: "test" });
    expect(response.receipt?.streamSequence).toBeGreaterThan(0);
    expect(await revokedAt(subscriber, verifier, token.accessToken)).toBe("jti");
  });

  it("RevokeToken by the token itself", async () => {
    const token = await issue();
    await verifier.verify(token.accessToken);
    await admin("revokeToken", adminV1.RevokeTokenRequest.fromPartial({ target: { $case: "token", value: token.accessToken }, reason: "leaked in a log" }));
    expect(await revokedAt(subscriber, verifier, token.accessToken)).toBe("jti");
  });

  it.each([
    ["a jti without sub and exp", { target: { $case: "jti", value: "abc" } }, status.INVALID_ARGUMENT],
    ["a token this issuer never signed", { target: { $case: "token", value: "eyJhbGciOiJFZERTQSJ9.e30.AAAA" } }, status.INVALID_ARGUMENT],
    ["a token already expired", { target: { $case: "jti", value: "old" }, sub: "orders", expUnix: Math.floor(Date.now() / 1000) - 3600 }, status.FAILED_PRECONDITION],
  ])("RevokeToken refuses %s", async (_name, request, code) => {
    expect(await statusOf(admin("revokeToken", adminV1.RevokeTokenRequest.fromPartial(request as adminV1.RevokeTokenRequest)))).toBe(code);
  });

  it("a reused refresh token revokes every access token of its family everywhere", async () => {
    const first = await issue();
    const refresh = async (refreshToken: string) =>
      unary<issuerV1.TokenResponse>(issuer.tokens, "refreshToken", { clientAssertion: await mintClientAssertion(orders, { serviceId: "orders", issuer: issuer.running.issuer }), refreshToken });
    const second = await refresh(first.refreshToken);
    await verifier.verify(second.accessToken);
    expect(await statusOf(refresh(first.refreshToken))).toBe(status.UNAUTHENTICATED);
    expect(await revokedAt(subscriber, verifier, first.accessToken)).toBe("jti");
    expect(await revokedAt(subscriber, verifier, second.accessToken)).toBe("jti");
  });

  it("RevokeSigningKey drops the key from the JWKS at once, rotates, and revokes what it signed", async () => {
    const token = await issue();
    const { kid } = await verifier.verify(token.accessToken);
    const response = await admin<adminV1.RevokeSigningKeyResponse>("revokeSigningKey", { kid, reason: "leaked" });
    expect(response.activeKid).not.toBe(kid);
    const jwks = (await (await fetch(`${issuer.running.httpUrl}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
    expect(jwks.keys.map((key) => key.kid)).not.toContain(kid);
    expect(await revokedAt(subscriber, verifier, token.accessToken)).toBe("kid");
    const fresh = await issue();
    await expect(verifier.verify(fresh.accessToken)).resolves.toMatchObject({ kid: response.activeKid });
    // A retry (say, after a publish that timed out) publishes again instead of failing NOT_FOUND.
    const again = await admin<adminV1.RevokeSigningKeyResponse>("revokeSigningKey", { kid, reason: "retry" });
    expect(again).toMatchObject({ activeKid: response.activeKid });
    expect(again.receipt?.streamSequence).toBeGreaterThan(response.receipt?.streamSequence ?? 0);
  });

  it("RevokeService disables the identity and revokes every token it holds", async () => {
    const token = await issue();
    await verifier.verify(token.accessToken);
    const response = await admin<adminV1.RevokeServiceResponse>("revokeService", { id: "orders", reason: "compromised" });
    expect(response.service?.status).toBe(adminV1.ServiceStatus.SERVICE_STATUS_DISABLED);
    expect(await revokedAt(subscriber, verifier, token.accessToken)).toBe("subject");
    expect(await statusOf(issue())).toBe(status.UNAUTHENTICATED);
  });

  it("fails loudly at the operator while NATS is down: UNAVAILABLE, NOT applied", async () => {
    await nats().stop();
    try {
      const error = await admin("revokeToken", { target: { $case: "jti", value: "while-down" }, sub: "orders", expUnix: Math.floor(Date.now() / 1000) + 300 }).catch((e: unknown) => e as { code: number; details: string });
      expect(error).toMatchObject({ code: status.UNAVAILABLE });
      expect((error as { details: string }).details).toContain("NOT applied");
    } finally {
      await nats().restart();
    }
  });
});

describe("an issuer without a revocation stream", () => {
  let issuer: TestIssuer;
  beforeAll(async () => {
    issuer = await startTestIssuer();
  });
  afterAll(async () => {
    await issuer.close();
  });

  it("answers FAILED_PRECONDITION and says what to configure", async () => {
    const error = await unary(issuer.admin, "revokeToken", { target: { $case: "jti", value: "x" }, sub: "orders", expUnix: Math.floor(Date.now() / 1000) + 60 }, bearer(await issuer.adminToken())).catch((e: unknown) => e as { code: number; details: string });
    expect(error).toMatchObject({ code: status.FAILED_PRECONDITION, details: expect.stringContaining("TRUSTMESH_NATS_URL") as unknown });
  });
});

