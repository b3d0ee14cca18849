import { verify } from "node:crypto";
import { generateTestKey, type TestAlgorithm } from "@trustmesh/testing";
import { describe, expect, it } from "vitest";
import { ASSERTION_LIFETIME_SEC, createAssertionSigner } from "./client-assertion.js";

const NOW_MS = 1_767_225_600_123;

describe.each<TestAlgorithm>(["EdDSA", "ES256"])("a %s client assertion", (alg) => {
  it("is a JWT for the issuer, from and about the service, short-lived, single-use, and verifies under the public key", async () => {
    const key = await generateTestKey(alg);
    const signer = createAssertionSigner({
      serviceId: "orders",
      issuerUrl: "https://issuer.trustmesh.test",
      privateJwk: { ...(key.privateKey.export({ format: "jwk" }) as Record<string, unknown>), kid: key.kid },
    });
    const assertion = signer.sign(NOW_MS);
    const [header = "", payload = "", signature = ""] = assertion.split(".");
    const decode = (part: string): unknown => JSON.parse(Buffer.from(part, "base64url").toString("utf8"));

    expect(decode(header)).toEqual({ alg, kid: key.kid, typ: "JWT" });
    const claims = decode(payload) as Record<string, unknown>;
    expect(Object.keys(claims).sort()).toEqual(["aud", "exp", "iat", "iss", "jti", "sub"]);
    expect(claims).toMatchObject({ iss: "orders", sub: "orders", aud: "https://issuer.trustmesh.test", iat: 1_767_225_600, exp: 1_767_225_600 + ASSERTION_LIFETIME_SEC });
    expect(claims["jti"]).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(ASSERTION_LIFETIME_SEC).toBeLessThanOrEqual(60);
    const input = Buffer.from(`${header}.${payload}`);
    const bytes = Buffer.from(signature, "base64url");
    expect(alg === "EdDSA" ? verify(null, input, key.publicKey, bytes) : verify("sha256", input, { key: key.publicKey, dsaEncoding: "ieee-p1363" }, bytes)).toBe(true);
    expect(decode(signer.sign(NOW_MS).split(".")[1] ?? "")).not.toMatchObject({ jti: claims["jti"] });
  });
});
