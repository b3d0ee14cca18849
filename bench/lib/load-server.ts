/**
 * A server for a load benchmark, in its own process so that the load generator's CPU stays out
 * of its figures: `node --conditions=trustmesh-source --import tsx bench/lib/load-server.ts SPEC`
 * with SPEC a LoadServerSpec as JSON. It prints one LoadServerReady line once it listens, answers
 * each "cpu" line on stdin with one LoadServerCpu line, and stops at the end of stdin, so it
 * cannot outlive the benchmark that started it.
 */
import { createInterface } from "node:readline";
import { Server, ServerCredentials, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { loadConfig, startIssuer } from "@trustmesh/issuer";
import type { issuerV1 } from "@trustmesh/proto";
import { ECHO_SERVICE, type LoadServerCpu, type LoadServerReady, type LoadServerSpec } from "./load-protocol.js";

async function main(spec: LoadServerSpec): Promise<void> {
  let ready: LoadServerReady;
  let close: () => Promise<void>;
  if (spec.kind === "issuer") {
    const running = await startIssuer({ config: loadConfig(spec.env) });
    ready = { address: running.grpcAddress, issuer: running.issuer };
    close = () => running.close(1000);
  } else {
    const echo = await startEcho(spec.response);
    ready = { address: echo.address, issuer: "" };
    close = echo.close;
  }
  process.stdout.write(`${JSON.stringify(ready)}\n`);
  const lines = createInterface({ input: process.stdin });
  lines.on("line", (line) => {
    if (line.trim() !== "cpu") return;
    const { user, system } = process.cpuUsage();
    const cpu: LoadServerCpu = { cpuUs: user + system };
    process.stdout.write(`${JSON.stringify(cpu)}\n`);
  });
  lines.on("close", () => {
    void close().finally(() => process.exit(0));
  });
}

/** No interceptor, no logger, no work: the floor any unary grpc-js service pays. */
async function startEcho(response: issuerV1.TokenResponse): Promise<{ address: string; close: () => Promise<void> }> {
  const server = new Server();
  const implementation: UntypedServiceImplementation = {
    echo: (_call: unknown, callback: (error: null, value: issuerV1.TokenResponse) => void) => {
      callback(null, response);
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

main(JSON.parse(process.argv[2] ?? "null") as LoadServerSpec).catch((error: unknown) => {
  console.error("load server failed:", error);
  process.exit(1);
});
