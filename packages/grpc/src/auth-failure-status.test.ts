import { status } from "@grpc/grpc-js";
import { VERIFY_ERROR_CODES, VerifyError, type ServiceClaims, type VerifyErrorCode } from "@trustmesh/verifier";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTH_FAILURE_STATUS, type AuthFailureCode } from "./auth-failure-status.js";
import { createAuthInterceptor } from "./create-auth-interceptor.js";
import { authorization, CALL_KINDS, ECHO_PATHS, startEchoServer, type EchoServer } from "./fixtures/echo-server.js";
import { requireScopes } from "./policy.js";

describe("AUTH_FAILURE_STATUS", () => {
  const unavailable: VerifyErrorCode[] = ["ERR_KEYS_UNAVAILABLE", "ERR_REVOCATION_UNAVAILABLE"];

  it.each(VERIFY_ERROR_CODES.map((code) => ({ code })))("maps $code", ({ code }) => {
    expect(AUTH_FAILURE_STATUS[code]).toBe(unavailable.includes(code) ? status.UNAVAILABLE : status.UNAUTHENTICATED);
  });

  it("maps policy failures to PERMISSION_DENIED, the rest of the request to UNAUTHENTICATED, faults to INTERNAL", () => {
    const others = Object.entries(AUTH_FAILURE_STATUS).filter(([code]) => !(VERIFY_ERROR_CODES as readonly string[]).includes(code));

    expect(Object.fromEntries(others)).toEqual({
      ERR_TOKEN_MISSING: status.UNAUTHENTICATED,
      ERR_AUTHORIZATION_DUPLICATE: status.UNAUTHENTICATED,
      ERR_AUTHORIZATION_SCHEME: status.UNAUTHENTICATED,
      ERR_AUTHORIZATION_MALFORMED: status.UNAUTHENTICATED,
      ERR_POLICY_MISSING: status.PERMISSION_DENIED,
      ERR_SCOPE_MISSING: status.PERMISSION_DENIED,
      ERR_SERVICE_NOT_ALLOWED: status.PERMISSION_DENIED,
      ERR_TENANT_NOT_ALLOWED: status.PERMISSION_DENIED,
      ERR_INTERNAL: status.INTERNAL,
    });
  });
});

describe("every outcome over the wire", () => {
  const SECRET = "internal-detail-that-must-not-leak";
  const logLines: { fields: Readonly<Record<string, unknown>>; message: string }[] = [];
  let server: EchoServer;

  // The "token" names the outcome: a VerifyError code, a fault, or claims no policy code expects.
  const stubVerifier = {
    verify(token: string): Promise<ServiceClaims> {
      if ((VERIFY_ERROR_CODES as readonly string[]).includes(token)) {
        return Promise.reject(new VerifyError(token as VerifyErrorCode, `${SECRET} ${token}`));
      }
      if (token === "BAD_CLAIMS") return Promise.resolve({} as ServiceClaims);
      return Promise.reject(new Error(`${SECRET} ${token}`));
    },
  };

  beforeAll(async () => {
    const policies = Object.fromEntries(Object.values(ECHO_PATHS).map((path) => [path, requireScopes("a")]));
    server = await startEchoServer(
      createAuthInterceptor({
        verifier: stubVerifier,
        policies,
        logger: { error: (fields, message) => logLines.push({ fields, message }) },
      }),
    );
  });

  afterAll(async () => {
    await server.close();
  });

  const cases = CALL_KINDS.flatMap((kind) => VERIFY_ERROR_CODES.map((code) => ({ kind, code })));

  it.each(cases)("a $kind call refused with $code carries only the code", async ({ kind, code }) => {
    const result = await server.client.call(kind, authorization(`Bearer ${code}`));

    expect(result).toEqual({ ok: false, code: AUTH_FAILURE_STATUS[code], details: code });
  });

  it.each([
    { name: "a verifier that throws something else", token: "SOME_FAULT" },
    { name: "a verifier that resolves without claims", token: "BAD_CLAIMS" },
  ])("turns $name into INTERNAL and one log line without the token", async ({ token }) => {
    const before = logLines.length;
    const result = await server.client.call("unary", authorization(`Bearer ${token}`));

    expect(result).toEqual({ ok: false, code: status.INTERNAL, details: "ERR_INTERNAL" satisfies AuthFailureCode });
    const lines = logLines.slice(before);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.fields).toMatchObject({ method: ECHO_PATHS.unary });
    expect(JSON.stringify(lines)).not.toContain(token);
    expect(JSON.stringify(lines)).not.toContain(SECRET);
  });
});
