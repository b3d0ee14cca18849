import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createTcpServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Client, credentials, Metadata, status, type Server, type ServiceError } from "@grpc/grpc-js";
import type { KeySource } from "@trustmesh/verifier";
import { generateTestKey, jwksOf, mintTestToken } from "@trustmesh/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const readme = fileURLToPath(new URL("../README.md", import.meta.url));
const fixtures = fileURLToPath(new URL("fixtures", import.meta.url));
const repoProtos = fileURLToPath(new URL("../../../proto", import.meta.url));

/** The first ```ts block of the README, with its three constants pointed at this test's world. */
async function exampleSource(issuer: string, address: string): Promise<string> {
  const text = await readFile(readme, "utf8");
  const block = /```ts\n([\s\S]*?)```/.exec(text)?.[1];
  if (block === undefined) throw new Error("README has no ts block");
  const replacements: [RegExp, string][] = [
    [/^const ISSUER = .*$/m, `const ISSUER = ${JSON.stringify(issuer)};`],
    [/^const PROTO_DIRS = .*$/m, `const PROTO_DIRS = ${JSON.stringify([fixtures, repoProtos])};`],
    [/^const ADDRESS = .*$/m, `const ADDRESS = ${JSON.stringify(address)};`],
    // The example keeps running; the test needs to stop it.
    [/$(?![\s\S])/, "export { server, keySource };\n"],
  ];
  let source = block;
  for (const [pattern, replacement] of replacements) {
    if (!pattern.test(source)) throw new Error(`README example lost ${String(pattern)}`);
    source = source.replace(pattern, replacement);
  }
  // A file outside the package cannot resolve its packages by name, so give it their locations.
  return source.replace(/from "([^"]+)";/g, (_match, specifier: string) => `from ${JSON.stringify(import.meta.resolve(specifier))};`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createTcpServer().listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => {
        if (typeof address === "object" && address !== null) resolve(address.port);
        else reject(new Error("no port"));
      });
    });
  });
}

describe("the README example", () => {
  let dir = "";
  let jwksServer: HttpServer;
  let example: { server: Server; keySource: KeySource };
  let client: Client;
  let token: (claims: Record<string, unknown>) => Promise<string>;

  beforeAll(async () => {
    const key = await generateTestKey();
    jwksServer = createHttpServer((_request, response) => {
      response.setHeader("content-type", "application/json").end(JSON.stringify(jwksOf(key)));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, "127.0.0.1", resolve));
    const jwksAddress = jwksServer.address();
    if (typeof jwksAddress !== "object" || jwksAddress === null) throw new Error("no JWKS port");
    const issuer = `http://127.0.0.1:${jwksAddress.port}`;
    // The example binds the address it is given and keeps its port to itself, so pick one here.
    const address = `127.0.0.1:${await freePort()}`;

    dir = await mkdtemp(join(tmpdir(), "trustmesh-readme-"));
    const file = join(dir, "example.ts");
    await writeFile(file, await exampleSource(issuer, address));
    example = (await import(pathToFileURL(file).href)) as typeof example;
    client = new Client(address, credentials.createInsecure());
    token = (claims) => mintTestToken(key, { claims: { iss: issuer, ...claims } });
  });

  afterAll(async () => {
    client.close();
    example.server.forceShutdown();
    await example.keySource.close();
    await new Promise((resolve) => jwksServer.close(resolve));
    if (dir !== "") await rm(dir, { recursive: true, force: true });
  });

  const charge = async (metadata: Metadata): Promise<{ chargedBy: string } | { code: status; details: string }> =>
    new Promise((resolve) => {
      client.makeUnaryRequest(
        "/payments.v1.Payments/Charge",
        () => Buffer.from([0x08, 0x64]), // ChargeRequest { amount_cents: 100 }
        (bytes: Buffer) => ({ chargedBy: bytes.subarray(2).toString() }), // ChargeReply { charged_by }
        {},
        metadata,
        (error: ServiceError | null, reply?: { chargedBy: string }) => {
          resolve(error === null ? (reply as { chargedBy: string }) : { code: error.code, details: error.details });
        },
      );
    });

  const bearer = async (claims: Record<string, unknown>): Promise<Metadata> => {
    const metadata = new Metadata();
    metadata.set("authorization", `Bearer ${await token(claims)}`);
    return metadata;
  };

  it("serves a caller the proto's policy allows, and tells the handler who it is", async () => {
    expect(await charge(await bearer({}))).toEqual({ chargedBy: "orders" });
  });

  it("refuses a call with no token and a caller the policy does not name", async () => {
    expect(await charge(new Metadata())).toEqual({ code: status.UNAUTHENTICATED, details: "ERR_TOKEN_MISSING" });
    expect(await charge(await bearer({ sub: "billing", client_id: "billing" }))).toEqual({
      code: status.PERMISSION_DENIED,
      details: "ERR_SERVICE_NOT_ALLOWED",
    });
  });
});
