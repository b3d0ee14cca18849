/**
 * The payments service of the demo mesh. Its only trust decisions are the interceptor's: the
 * policy comes from demo.proto (Charge: scope payments:charge, caller orders), and the handler
 * reads the verified caller, never a header.
 */
import { EventEmitter, on } from "node:events";
import { randomUUID } from "node:crypto";
import { Server, ServerCredentials, type ServerWritableStream } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { createAuthInterceptor, bindRevocationHealth, HEALTH_AND_REFLECTION_POLICIES, policiesFromProto, requireCaller } from "@trustmesh/grpc";
import { demoV1, PROTO_ROOT } from "@trustmesh/proto";
import { createRevocationSubscriber } from "@trustmesh/revocation";
import { createRemoteKeySource, createVerifier } from "@trustmesh/verifier";
import { HealthImplementation } from "grpc-health-check";
import type { PaymentsConfig } from "./config.js";

export interface RunningPayments {
  readonly address: string;
  close(): Promise<void>;
}

export async function startPayments(config: PaymentsConfig): Promise<RunningPayments> {
  const keySource = createRemoteKeySource({ url: config.jwksUrl });
  const revocation = config.natsUrl === undefined ? undefined : createRevocationSubscriber({ servers: config.natsUrl, serviceId: "payments" });
  await Promise.all([keySource.ready(), revocation?.ready()]);
  const verifier = createVerifier({ issuer: config.issuer, audience: "payments", keySource, ...(revocation === undefined ? {} : { revocation }) });
  const policies = { ...policiesFromProto(loadSync("trustmesh/demo/v1/demo.proto", { includeDirs: [PROTO_ROOT] })), ...HEALTH_AND_REFLECTION_POLICIES };
  const server = new Server({ interceptors: [createAuthInterceptor({ verifier, policies, ...(revocation === undefined ? {} : { revocation }) })] });
  const receipts = new EventEmitter();

  server.addService(demoV1.PaymentsService, {
    charge(call, callback) {
      const caller = requireCaller(call);
      const paymentId = `pay_${randomUUID().slice(0, 8)}`;
      receipts.emit("receipt", { paymentId, orderId: call.request.orderId });
      callback(null, { paymentId, chargedBy: caller.serviceId });
    },
    watchReceipts(call: ServerWritableStream<demoV1.WatchReceiptsRequest, demoV1.WatchReceiptsResponse>) {
      const abort = new AbortController();
      call.on("cancelled", () => {
        abort.abort();
      });
      void (async () => {
        try {
          for await (const [receipt] of on(receipts, "receipt", { signal: abort.signal })) call.write(receipt as demoV1.WatchReceiptsResponse);
        } catch {
          // Aborted: the stream ended (its token expired or was revoked, or the client left).
        }
      })();
    },
  } satisfies demoV1.PaymentsServer);
  const health = new HealthImplementation({ "": "SERVING" });
  health.addToServer(server);
  const unbindHealth = revocation === undefined ? () => undefined : bindRevocationHealth(health, revocation, { services: [""] });

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${config.host}:${config.port}`, ServerCredentials.createInsecure(), (error, bound) => {
      if (error === null) resolve(bound);
      else reject(error);
    });
  });
  return {
    address: `${config.host}:${port}`,
    async close() {
      await new Promise<void>((resolve) => {
        server.tryShutdown(() => {
          resolve();
        });
      });
      unbindHealth();
      await revocation?.close();
      await keySource.close();
    },
  };
}
