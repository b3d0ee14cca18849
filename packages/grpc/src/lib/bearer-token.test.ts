import { Metadata } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { isMalformedBearer, readBearerToken } from "./bearer-token.js";

function metadataWith(values: (string | Buffer)[]): Metadata {
  // Metadata refuses a Buffer for a non-binary key, so that case gets a stand-in.
  if (values.some((value) => typeof value !== "string")) return { get: () => values } as unknown as Metadata;
  const metadata = new Metadata();
  for (const value of values) metadata.add("authorization", value);
  return metadata;
}

describe("readBearerToken", () => {
  const jwt = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJvcmRlcnMifQ.c2ln";
  const cases: { name: string; values: (string | Buffer)[]; expected: ReturnType<typeof readBearerToken> }[] = [
    { name: "one Bearer value", values: [`Bearer ${jwt}`], expected: { ok: true, token: jwt } },
    { name: "the scheme in lower case", values: [`bearer ${jwt}`], expected: { ok: true, token: jwt } },
    { name: "the scheme in upper case", values: [`BEARER ${jwt}`], expected: { ok: true, token: jwt } },
    { name: "a b64token with padding", values: ["Bearer abc+/=="], expected: { ok: true, token: "abc+/==" } },
    { name: "no value", values: [], expected: { ok: false, code: "ERR_TOKEN_MISSING" } },
    { name: "two values", values: [`Bearer ${jwt}`, `Bearer ${jwt}`], expected: { ok: false, code: "ERR_AUTHORIZATION_DUPLICATE" } },
    { name: "an empty value", values: [""], expected: { ok: false, code: "ERR_AUTHORIZATION_MALFORMED" } },
    { name: "the scheme alone", values: ["Bearer"], expected: { ok: false, code: "ERR_AUTHORIZATION_MALFORMED" } },
    // Not b64tokens, but their grammar is checked only once the verifier has refused them.
    { name: "the scheme and a space", values: ["Bearer "], expected: { ok: true, token: "" } },
    { name: "two spaces", values: [`Bearer  ${jwt}`], expected: { ok: true, token: ` ${jwt}` } },
    { name: "a trailing space", values: [`Bearer ${jwt} `], expected: { ok: true, token: `${jwt} ` } },
    { name: "a leading space", values: [` Bearer ${jwt}`], expected: { ok: false, code: "ERR_AUTHORIZATION_SCHEME" } },
    { name: "two tokens joined by a comma", values: [`Bearer ${jwt}, Bearer ${jwt}`], expected: { ok: true, token: `${jwt}, Bearer ${jwt}` } },
    { name: "padding inside the token", values: ["Bearer ab=c"], expected: { ok: true, token: "ab=c" } },
    { name: "no scheme", values: [jwt], expected: { ok: false, code: "ERR_AUTHORIZATION_MALFORMED" } },
    { name: "the Basic scheme", values: ["Basic b3JkZXJzOnNlY3JldA=="], expected: { ok: false, code: "ERR_AUTHORIZATION_SCHEME" } },
    { name: "a scheme that starts with Bearer", values: [`Bearerx ${jwt}`], expected: { ok: false, code: "ERR_AUTHORIZATION_SCHEME" } },
    { name: "a binary value", values: [Buffer.from(`Bearer ${jwt}`)], expected: { ok: false, code: "ERR_AUTHORIZATION_MALFORMED" } },
  ];

  it.each(cases)("$name", ({ values, expected }) => {
    expect(readBearerToken(metadataWith(values))).toEqual(expected);
  });
});

describe("isMalformedBearer", () => {
  const jwt = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJvcmRlcnMifQ.c2ln";
  const cases: { name: string; token: string; malformed: boolean }[] = [
    { name: "a compact JWS", token: jwt, malformed: false },
    { name: "a b64token with padding", token: "abc+/==", malformed: false },
    { name: "an empty token", token: "", malformed: true },
    { name: "a leading space", token: ` ${jwt}`, malformed: true },
    { name: "a trailing space", token: `${jwt} `, malformed: true },
    { name: "a second token after a comma", token: `${jwt}, Bearer ${jwt}`, malformed: true },
    { name: "padding inside the token", token: "ab=c", malformed: true },
  ];

  it.each(cases)("$name", ({ token, malformed }) => {
    expect(isMalformedBearer(token)).toBe(malformed);
  });
});
