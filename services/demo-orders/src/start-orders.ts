/**
 * The orders service of the demo mesh: it accepts PlaceOrder from callers holding orders:place,
 * and charges through payments with a token of its own, for audience payments and scope
 * payments:charge, fetched and renewed by the token source.
 */
import { randomUUID } from "node:crypto";
import { credentials, Server, ServerCredentials, status } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { createAuthInterceptor, createTokenInterceptor, createTokenSource, bindRevocationHealth, HEALTH_AND_REFLECTION_POLICIES, policiesFromProto, requireCaller } from "@trustmesh/grpc";
import { demoV1, PROTO_ROOT } from "@trustmesh/proto";
import { createRevocationSubscriber } from "@trustmesh/revocation";
import { createRemoteKeySource, createVerifier } from "@trustmesh/verifier";
import { HealthImplementation } from "grpc-health-check";
import type { OrdersConfig } from "./config.js";

export interface RunningOrders {
  readonly address: string;
  close(): Promise<void>;
}

export async function startOrders(config: OrdersConfig): Promise<RunningOrders> {
  const keySource = createRemoteKeySource({ url: config.jwksUrl });
  const revocation = config.natsUrl === undefined ? undefined : createRevocationSubscriber({ servers: config.natsUrl, serviceId: "orders" });
  await Promise.all([keySource.ready(), revocation?.ready()]);
  const verifier = createVerifier({ issuer: config.issuer, audience: "orders", keySource, ...(revocation === undefined ? {} : { revocation }) });
  const policies = { ...policiesFromProto(loadSync("trustmesh/demo/v1/demo.proto", { includeDirs: [PROTO_ROOT] })), ...HEALTH_AND_REFLECTION_POLICIES };

  const issuerCredentials = config.issuerPlaintext ? credentials.createInsecure() : credentials.createSsl();
  const tokens = createTokenSource({ issuer: { address: config.issuerAddress, credentials: issuerCredentials }, issuerUrl: config.issuer, serviceId: config.serviceId, privateJwk: config.privateJwk });
  const payments = new demoV1.PaymentsClient(config.paymentsAddress, credentials.createInsecure(), {
    interceptors: [createTokenInterceptor(tokens, { audience: "payments", scopes: ["payments:charge"] })],
  });

  const server = new Server({ interceptors: [createAuthInterceptor({ verifier, policies, ...(revocation === undefined ? {} : { revocation }) })] });
  server.addService(demoV1.OrdersService, {
    placeOrder(call, callback) {
      const caller = requireCaller(call);
      const orderId = `ord_${randomUUID().slice(0, 8)}`;
      payments.charge({ orderId, amountCents: call.request.amountCents }, (error, charged) => {
        if (error !== null) {
          // Pass the refusal on as what it is, without payments' internals.
          callback({ code: error.code === status.UNAVAILABLE ? status.UNAVAILABLE : status.FAILED_PRECONDITION, details: `payments refused the charge: ${status[error.code]}` });
          return;
        }
        callback(null, { orderId, paymentId: charged.paymentId, verifiedCallers: [caller.serviceId, charged.chargedBy] });
      });
    },
  } satisfies demoV1.OrdersServer);
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
      payments.close();
      await tokens.close();
      unbindHealth();
      await revocation?.close();
      await keySource.close();
    },
  };
}
