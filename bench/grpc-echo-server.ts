/**
 * The echo server of the gRPC benchmark, in its own process so that the load generator's CPU stays
 * out of its figures: `node --conditions=trustmesh-source --import tsx bench/grpc-echo-server.ts
 * SPEC` with SPEC an EchoServerSpec as JSON. Its grpc-js servers share the process, the service
 * and the handler; they differ only in the auth interceptor. It prints one EchoServerReady line
 * once all listen, answers each "cpu" line on stdin with one EchoServerCpu line, and stops at the
 * end of stdin, so it cannot outlive the benchmark that started it.
 */
import { createInterface } from "node:readline";
import { Server, ServerCredentials, type ServerInterceptor, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { createAuthInterceptor, requireScopes, type AuthInterceptor } from "@trustmesh/grpc";
import type { issuerV1 } from "@trustmesh/proto";
import { TEST_AUDIENCE, TEST_ISSUER } from "@trustmesh/testing";
import { createVerifier, type JsonWebKeySet, type Verifier } from "@trustmesh/verifier";
import { ECHO_SCOPE, type CacheCounts, type EchoServerCpu, type EchoServerReady, type EchoServerSpec } from "./grpc-protocol.js";
import { ECHO_SERVICE } from "./lib/load-protocol.js";

/** A small fixed answer: the figures are about the call path, not the payload. */
const RESPONSE: issuerV1.TokenResponse = {
  accessToken: "echo",
  tokenType: "Bearer",
  expiresAtUnix: 0,
  expiresInSec: 0,
  refreshToken: "",
  refreshExpiresAtUnix: 0,
  audience: "",
  scopes: [],
};

interface Echo {
  readonly address: string;
  close(): Promise<void>;
}

async function main(spec: EchoServerSpec): Promise<void> {
  const warm = authenticated(spec.jwks);
  const cold = authenticated(spec.jwks);
  const servers = [await startEcho([]), await startEcho([warm.interceptor]), await startEcho([cold.interceptor])];
  const [bare, warmEcho, coldEcho] = servers as [Echo, Echo, Echo];
  const ready: EchoServerReady = { bareAddress: bare.address, warmAddress: warmEcho.address, coldAddress: coldEcho.address };
  process.stdout.write(`${JSON.stringify(ready)}\n`);
  const lines = createInterface({ input: process.stdin });
  lines.on("line", (line) => {
    if (line.trim() !== "cpu") return;
    const { user, system } = process.cpuUsage();
    const cpu: EchoServerCpu = { cpuUs: user + system, warmCache: countsOf(warm.verifier), coldCache: countsOf(cold.verifier) };
    process.stdout.write(`${JSON.stringify(cpu)}\n`);
  });
  lines.on("close", () => {
    warm.interceptor.close();
    cold.interceptor.close();
    void Promise.all(servers.map((server) => server.close())).finally(() => process.exit(0));
  });
}

/** As a service wires it: a static-JWKS verifier with its defaults, a scope on the one method. */
function authenticated(jwks: JsonWebKeySet): { verifier: Verifier; interceptor: AuthInterceptor } {
  const verifier = createVerifier({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwks });
  const interceptor = createAuthInterceptor({ verifier, policies: { [ECHO_SERVICE.echo.path]: requireScopes(ECHO_SCOPE) } });
  return { verifier, interceptor };
}

function countsOf(verifier: Verifier): CacheCounts {
  const { hits, misses } = verifier.cacheStats();
  return { hits, misses };
}

async function startEcho(interceptors: ServerInterceptor[]): Promise<Echo> {
  const server = new Server({ interceptors });
  const implementation: UntypedServiceImplementation = {
    echo: (_call: unknown, callback: (error: null, value: issuerV1.TokenResponse) => void) => {
      callback(null, RESPONSE);
    },
  };
  server.addService(ECHO_SERVICE, implementation);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, bound) => {
      if (error === null) resolve(bound);
      else reject(error);
    });
  });
  return {
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.tryShutdown(() => {
          resolve();
        });
      }),
  };
}

main(JSON.parse(process.argv[2] ?? "null") as EchoServerSpec).catch((error: unknown) => {
  console.error("echo server failed:", error);
  process.exit(1);
});
