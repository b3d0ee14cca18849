import { generateKeyPairSync } from "node:crypto";
import { credentials } from "@grpc/grpc-js";
import { generateTestKey } from "@trustmesh/testing";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { TokenSourceError } from "./token-source-error.js";
import { createTokenSource, type ServicePrivateJwk, type TokenSource, type TokenSourceOptions } from "./token-source.js";

let privateJwk: ServicePrivateJwk;
let valid: TokenSourceOptions;
const sources: TokenSource[] = [];

beforeAll(async () => {
  const key = await generateTestKey("EdDSA");
  privateJwk = { ...(key.privateKey.export({ format: "jwk" }) as Record<string, unknown>), kid: key.kid, alg: key.alg };
  // Port 1 on loopback: nothing listens, so a call is refused at once.
  valid = { issuer: { address: "127.0.0.1:1", credentials: credentials.createInsecure() }, issuerUrl: "https://issuer.trustmesh.test", serviceId: "orders", privateJwk, logger: { debug: () => undefined, warn: () => undefined } };
});
afterEach(async () => {
  await Promise.all(sources.splice(0).map((source) => source.close()));
});

function create(options: TokenSourceOptions): TokenSource {
  const source = createTokenSource(options);
  sources.push(source);
  return source;
}

describe("createTokenSource options", () => {
  it.each<[string, (base: TokenSourceOptions) => unknown, string]>([
    ["no serviceId", (base) => ({ ...base, serviceId: "" }), "serviceId"],
    ["an issuerUrl that is not a URL", (base) => ({ ...base, issuerUrl: "issuer" }), "issuerUrl"],
    ["no issuer", (base) => ({ ...base, issuer: undefined }), "issuer"],
    ["an issuer that is neither an address nor a client", (base) => ({ ...base, issuer: {} }), "issuer"],
    ["an empty issuer address", (base) => ({ ...base, issuer: { address: "" } }), "issuer"],
    ["a refreshAheadRatio of 1", (base) => ({ ...base, refreshAheadRatio: 1 }), "refreshAheadRatio"],
    ["a refreshAheadRatio of 0", (base) => ({ ...base, refreshAheadRatio: 0 }), "refreshAheadRatio"],
    ["a negative jitterRatio", (base) => ({ ...base, jitterRatio: -0.1 }), "jitterRatio"],
    ["a zero minRetryMs", (base) => ({ ...base, minRetryMs: 0 }), "minRetryMs"],
    ["a maxRetryMs below minRetryMs", (base) => ({ ...base, minRetryMs: 1000, maxRetryMs: 999 }), "maxRetryMs"],
    ["an infinite callTimeoutMs", (base) => ({ ...base, callTimeoutMs: Infinity }), "callTimeoutMs"],
    ["a now that is not a function", (base) => ({ ...base, now: 5 }), "now"],
    ["a logger without debug", (base) => ({ ...base, logger: { warn: () => undefined } }), "logger"],
    ["a privateJwk without kid", (base) => ({ ...base, privateJwk: { ...privateJwk, kid: "" } }), "privateJwk"],
    ["a public JWK", (base) => ({ ...base, privateJwk: { ...privateJwk, d: undefined } }), "privateJwk"],
    ["a privateJwk whose alg is not its key's", (base) => ({ ...base, privateJwk: { ...privateJwk, alg: "ES256" } }), "privateJwk"],
    ["a corrupt privateJwk", (base) => ({ ...base, privateJwk: { ...privateJwk, x: "AAAA" } }), "privateJwk"],
  ])("refuses %s with ERR_TOKEN_SOURCE_OPTIONS, naming the option", (_name, change, option) => {
    let thrown: unknown;
    try {
      create(change(valid) as TokenSourceOptions);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TokenSourceError);
    expect(thrown).toMatchObject({ code: "ERR_TOKEN_SOURCE_OPTIONS", option });
    expect((thrown as Error).message).not.toContain(privateJwk["d"]);
  });

  it("refuses a key that is neither Ed25519 nor P-256", () => {
    const es384 = generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey.export({ format: "jwk" });
    expect(() => create({ ...valid, privateJwk: { ...es384, kid: "k" } })).toThrow(expect.objectContaining({ code: "ERR_TOKEN_SOURCE_OPTIONS", option: "privateJwk" }));
  });
});

describe("a token source whose issuer is not there", () => {
  it("rejects with ERR_ISSUER_UNREACHABLE naming the address, then answers at once until the backoff is up", async () => {
    let nowMs = 0;
    const source = create({ ...valid, now: () => nowMs, minRetryMs: 1000 });
    const error = (await source.getToken("payments").catch((reason: unknown) => reason)) as TokenSourceError;

    expect(error).toMatchObject({ code: "ERR_ISSUER_UNREACHABLE", audience: "payments" });
    expect(error.message).toMatch(/^no token for audience "payments": the issuer at 127\.0\.0\.1:1 is unreachable \(IssueToken: UNAVAILABLE/);
    expect(await source.getToken("payments").catch((reason: unknown) => reason)).toBe(error);
    nowMs += 1000;
    expect(await source.getToken("payments").catch((reason: unknown) => reason)).not.toBe(error);
  });

  it("closes the client it created, and rejects afterwards with ERR_TOKEN_SOURCE_CLOSED", async () => {
    const source = createTokenSource(valid);
    await source.close();
    await source.close();
    await expect(source.getToken("payments")).rejects.toMatchObject({ code: "ERR_TOKEN_SOURCE_CLOSED" });
  });
});
