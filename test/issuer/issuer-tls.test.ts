import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { get } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { credentials, status } from "@grpc/grpc-js";
import { issuerV1 } from "@trustmesh/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestIssuer, statusOf, unary, type TestIssuer } from "./issuer-harness.js";

describe("the issuer with TLS", () => {
  let dir: string;
  let ca: Buffer;
  let issuer: TestIssuer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "trustmesh-tls-"));
    const [certFile, keyFile] = [join(dir, "tls.crt"), join(dir, "tls.key")];
    await promisify(execFile)("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", keyFile, "-out", certFile]);
    ca = await readFile(certFile);
    issuer = await startTestIssuer({ TRUSTMESH_TLS_CERT_FILE: certFile, TRUSTMESH_TLS_KEY_FILE: keyFile });
  });
  afterAll(async () => {
    await issuer.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("serves gRPC over TLS only", async () => {
    const secure = new issuerV1.TokenIssuerClient(issuer.running.grpcAddress, credentials.createSsl(ca));
    await expect(unary<issuerV1.GetJwksResponse>(secure, "getJwks", {})).resolves.toMatchObject({ keys: expect.any(Array) as unknown });
    const plaintext = new issuerV1.TokenIssuerClient(issuer.running.grpcAddress, credentials.createInsecure());
    expect(await statusOf(unary(plaintext, "getJwks", {}))).toBe(status.UNAVAILABLE);
    secure.close();
    plaintext.close();
  });

  it("serves the JWKS over https, and names https in its issuer URL", async () => {
    expect(issuer.running.issuer).toMatch(/^https:\/\//);
    const body = await new Promise<string>((resolve, reject) => {
      get(`${issuer.running.httpUrl}/.well-known/jwks.json`, { ca }, (response) => {
        let text = "";
        response.on("data", (chunk: Buffer) => (text += chunk.toString()));
        response.on("end", () => {
          resolve(text);
        });
      }).on("error", reject);
    });
    expect((JSON.parse(body) as { keys: unknown[] }).keys).toHaveLength(2);
  });
});
