import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Server, ServerCredentials, type handleUnaryCall, type ServiceDefinition } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { createAuthInterceptor, policiesFromProto, requireCaller } from "@trustmesh/grpc";
import { JWKS_PATH } from "@trustmesh/issuer";
import { createRemoteKeySource, createVerifier } from "@trustmesh/verifier";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startClockedIssuer, type ClockedIssuer } from "./clocked-issuer.js";

const readme = fileURLToPath(new URL("../../packages/grpc/README.md", import.meta.url));
// The payments service of the README's server example, and the trustmesh policy option it uses.
const PROTO_DIRS = [fileURLToPath(new URL("../../packages/grpc/src/fixtures", import.meta.url)), fileURLToPath(new URL("../../proto", import.meta.url))];

/** The first ```ts block of the README's Client section, its constants pointed at this test's world. */
async function clientExample(constants: { issuerUrl: string; issuerAddress: string; keyFile: string; payments: string }): Promise<string> {
  const text = await readFile(readme, "utf8");
  const block = /^## Client\n[\s\S]*?```ts\n([\s\S]*?)```/m.exec(text)?.[1];
  if (block === undefined) throw new Error("README has no Client example");
  const replacements: [RegExp, string][] = [
    [/^const ISSUER = .*$/m, `const ISSUER = ${JSON.stringify({ url: constants.issuerUrl, address: constants.issuerAddress })};`],
    [/^const KEY_FILE = .*$/m, `const KEY_FILE = ${JSON.stringify(constants.keyFile)};`],
    [/^const PAYMENTS = .*$/m, `const PAYMENTS = ${JSON.stringify(constants.payments)};`],
    [/^const PROTO_DIRS = .*$/m, `const PROTO_DIRS = ${JSON.stringify(PROTO_DIRS)};`],
    [/$(?![\s\S])/, "export { reply };\n"],
  ];
  let source = block;
  for (const [pattern, replacement] of replacements) {
    if (!pattern.test(source)) throw new Error(`README example lost ${String(pattern)}`);
    source = source.replace(pattern, replacement);
  }
  // A file outside the workspace cannot resolve its packages by name, so give it their locations.
  return source.replace(/from "([^"]+)";/g, (_match, specifier: string) => `from ${JSON.stringify(import.meta.resolve(specifier))};`);
}

let issuer: ClockedIssuer;
let server: Server;
let keySource: ReturnType<typeof createRemoteKeySource>;
let dir = "";
let paymentsAddress = "";

beforeAll(async () => {
  issuer = await startClockedIssuer();
  keySource = createRemoteKeySource({ url: `${issuer.running.httpUrl}${JWKS_PATH}` });
  await keySource.ready();
  const verifier = createVerifier({ issuer: issuer.running.issuer, audience: "payments", keySource, now: issuer.clock.now });
  const proto = loadSync("payments/v1/payments.proto", { includeDirs: PROTO_DIRS });
  const charge: handleUnaryCall<object, object> = (call, callback) => {
    callback(null, { chargedBy: requireCaller(call).serviceId });
  };
  server = new Server({ interceptors: [createAuthInterceptor({ verifier, policies: policiesFromProto(proto) })] });
  server.addService(proto["payments.v1.Payments"] as ServiceDefinition, { Charge: charge });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, bound) => {
      if (error === null) resolve(bound);
      else reject(error);
    });
  });
  paymentsAddress = `127.0.0.1:${port}`;
  dir = await mkdtemp(join(tmpdir(), "trustmesh-readme-client-"));
});

afterAll(async () => {
  server.forceShutdown();
  await keySource.close();
  await issuer.close();
  if (dir !== "") await rm(dir, { recursive: true, force: true });
});

it("the README's Client example gets a token and calls the payments server as orders", async () => {
  const { privateJwk } = await issuer.register("orders", { payments: ["payments:charge"] });
  const keyFile = join(dir, "orders-key.json");
  await writeFile(keyFile, JSON.stringify(privateJwk), { mode: 0o600 });
  const file = join(dir, "example.ts");
  await writeFile(file, await clientExample({ issuerUrl: issuer.running.issuer, issuerAddress: issuer.running.grpcAddress, keyFile, payments: paymentsAddress }));

  const example = (await import(pathToFileURL(file).href)) as { reply: unknown };
  expect(example.reply).toEqual({ chargedBy: "orders" });
  expect(issuer.count("orders").issued).toBe(1);
});
