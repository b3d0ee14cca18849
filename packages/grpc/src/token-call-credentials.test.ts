import { credentials, status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { tokenCallCredentials } from "./token-call-credentials.js";
import { TokenSourceError } from "./token-source-error.js";

const CALL = { method_name: "/payments.v1.Payments/Charge", service_url: "https://payments.internal/payments.v1.Payments" };

describe("tokenCallCredentials", () => {
  it("generates `authorization: Bearer <token>` for the audience and sorted scopes", async () => {
    const asked: unknown[] = [];
    const creds = tokenCallCredentials(
      {
        getToken: (audience, scopes) => {
          asked.push([audience, scopes]);
          return Promise.resolve("the-token");
        },
      },
      { audience: "payments", scopes: ["payments:refund", "payments:charge"] },
    );

    expect((await creds.generateMetadata(CALL)).getMap()).toEqual({ authorization: "Bearer the-token" });
    expect(asked).toEqual([["payments", ["payments:charge", "payments:refund"]]]);
  });

  it.each([
    ["ERR_ISSUER_UNREACHABLE", status.UNAVAILABLE],
    ["ERR_TOKEN_DENIED", status.UNAUTHENTICATED],
  ] as const)("fails a call whose token source answers %s with status %i and the reason", async (code, expected) => {
    const creds = tokenCallCredentials({ getToken: () => Promise.reject(new TokenSourceError(code, "no token for audience \"payments\"")) }, { audience: "payments" });
    await expect(creds.generateMetadata(CALL)).rejects.toMatchObject({ code: expected, message: `${code}: no token for audience "payments"` });
  });

  it("cannot be combined with an insecure channel (grpc-js refuses): that is what the interceptor is for", () => {
    const creds = tokenCallCredentials({ getToken: () => Promise.resolve("t") }, { audience: "payments" });
    expect(() => credentials.createInsecure().compose(creds)).toThrow(/insecure/);
  });

  it("refuses a request without an audience with ERR_TOKEN_SOURCE_OPTIONS", () => {
    expect(() => tokenCallCredentials({ getToken: () => Promise.resolve("t") }, { audience: "" })).toThrow(expect.objectContaining({ code: "ERR_TOKEN_SOURCE_OPTIONS" }));
  });
});
