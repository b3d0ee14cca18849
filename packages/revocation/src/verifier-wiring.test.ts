/** The subscriber as the verifier's revocation check, against a real server, cache included. */
import { generateTestKey, jwksOf, mintTestToken, newJti, TEST_AUDIENCE, TEST_ISSUER, TEST_SUBJECT } from "@trustmesh/testing";
import { useNats } from "@trustmesh/testing/vitest";
import { createVerifier } from "@trustmesh/verifier";
import { afterAll, describe, expect, it } from "vitest";
import { createRevocationPublisher } from "./create-revocation-publisher.js";
import { createRevocationSubscriber } from "./create-revocation-subscriber.js";
import { audit, untilStatus, within } from "./test-support/helpers.js";

const nats = useNats();
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
});

describe("createVerifier({ revocation: subscriber })", () => {
  it("rejects tokens verified (and cached) before their jti or key was revoked, with the reason", async () => {
    const key = await generateTestKey();
    const publisher = createRevocationPublisher({ servers: nats().url });
    closers.push(() => publisher.close());
    // The stream exists before the subscriber, as it does once an issuer has started.
    await publisher.revokeKey({ kid: "kid-unrelated", ...audit() });
    const subscriber = createRevocationSubscriber({ servers: nats().url, serviceId: "payments" });
    closers.push(() => subscriber.close());
    const verifier = createVerifier({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwks: jwksOf(key), revocation: subscriber });
    await within(subscriber.ready(), "replay");

    const jti = newJti();
    const revokedByJti = await mintTestToken(key, { claims: { jti } });
    const other = await mintTestToken(key);
    const claims = await verifier.verify(revokedByJti);
    await verifier.verify(other);

    await publisher.revokeToken({ jti, sub: TEST_SUBJECT, exp: claims.exp, ...audit() });
    await untilStatus(subscriber, claims, "revoked-jti");
    await expect(verifier.verify(revokedByJti)).rejects.toMatchObject({ code: "ERR_TOKEN_REVOKED", reason: "jti" });
    await expect(verifier.verify(other)).resolves.toMatchObject({ sub: TEST_SUBJECT });

    await publisher.revokeKey({ kid: key.kid, ...audit() });
    await untilStatus(subscriber, { ...claims, jti: newJti() }, "revoked-kid");
    await expect(verifier.verify(other)).rejects.toMatchObject({ code: "ERR_TOKEN_REVOKED", reason: "kid" });
  });
});
