/**
 * `pnpm demo`: the demo mesh tells its story. Each step says what a caller does and what the
 * mesh answers; the run exits non-zero if any answer is not the one the step states.
 */
import { credentials, Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { createTokenInterceptor, createTokenSource } from "@trustmesh/grpc";
import { adminV1, demoV1 } from "@trustmesh/proto";
import { watchAcks } from "./acks.js";
import { generateKeyPair, SignJWT, decodeProtectedHeader } from "jose";
import { call, startMesh, type Mesh } from "./mesh.js";

interface Outcome {
  readonly code: status;
  /** The trustmesh reason code from the status details, or what the call returned. */
  readonly said: string;
  /** What happened on the way, such as how many instances applied a revocation. */
  readonly note?: string;
}

interface Step {
  readonly says: string;
  readonly expect: { readonly code: status; readonly reason?: string };
  run(): Promise<Outcome>;
}

const mesh: Mesh = await startMesh(process.env);
console.log(`trustmesh demo: issuer at ${mesh.issuer.grpcAddress} (JWKS ${mesh.issuer.httpUrl}/.well-known/jwks.json), state in ${mesh.storeNote}`);
console.log(`  revocations over ${mesh.natsNote ?? "nothing: no TRUSTMESH_NATS_URL and no nats-server installed, so the revocation steps are left out"}`);
console.log("  registered orders      may call payments with payments:charge and payments:refund");
console.log("  registered storefront  may call orders with orders:place, and payments with payments:refund only");
console.log(`  started    payments at ${mesh.paymentsAddress}, orders at ${mesh.ordersAddress} (separate processes)\n`);

const { storefront, orders } = mesh.keys;
// Plaintext on loopback for the demo; a deployment gives the token source TLS credentials.
const tokens = createTokenSource({ issuer: { address: mesh.issuer.grpcAddress, credentials: credentials.createInsecure() }, issuerUrl: mesh.issuer.issuer, serviceId: storefront.serviceId, privateJwk: storefront.privateJwk });
const ordersClient = new demoV1.OrdersClient(mesh.ordersAddress, credentials.createInsecure(), {
  interceptors: [createTokenInterceptor(tokens, { audience: "orders", scopes: ["orders:place"] })],
});
const paymentsClient = new demoV1.PaymentsClient(mesh.paymentsAddress, credentials.createInsecure());

const chargeWith = async (token: string): Promise<Outcome> => {
  const metadata = new Metadata();
  metadata.set("authorization", `Bearer ${token}`);
  return outcome(call<demoV1.ChargeResponse>((done) => paymentsClient.charge({ orderId: "ord_demo", amountCents: 4200 }, metadata, done)), (r) => `paid ${r.paymentId}, charged by ${r.chargedBy}`);
};

const steps: Step[] = [
  {
    says: "storefront places an order; orders charges it at payments with a token of its own (audience payments, scope payments:charge)",
    expect: { code: status.OK },
    run: () =>
      outcome(call<demoV1.PlaceOrderResponse>((done) => ordersClient.placeOrder({ item: "book", amountCents: 4200 }, done)), (r) => `order ${r.orderId} paid by ${r.paymentId}; verified callers ${r.verifiedCallers.join(" -> ")}`),
  },
  {
    says: "storefront calls payments with its token for audience orders (a token stolen from one service, replayed at another)",
    expect: { code: status.UNAUTHENTICATED, reason: "ERR_AUDIENCE_MISMATCH" },
    run: async () => chargeWith(await mesh.issue(storefront, "orders", ["orders:place"])),
  },
  {
    says: "orders calls payments.Charge with a token that carries payments:refund but not payments:charge",
    expect: { code: status.PERMISSION_DENIED, reason: "ERR_SCOPE_MISSING" },
    run: async () => chargeWith(await mesh.issue(orders, "payments", ["payments:refund"])),
  },
  {
    says: "storefront calls payments.Charge itself (a valid payments token, but Charge admits only orders)",
    expect: { code: status.PERMISSION_DENIED, reason: "ERR_SERVICE_NOT_ALLOWED" },
    run: async () => chargeWith(await mesh.issue(storefront, "payments", ["payments:refund"])),
  },
  {
    says: "someone replays a token orders was issued 20 minutes ago (expired 10 minutes ago)",
    expect: { code: status.UNAUTHENTICATED, reason: "ERR_TOKEN_EXPIRED" },
    run: async () => {
      const past = Date.now() - 20 * 60_000;
      mesh.shiftIssuerClock(past - Date.now());
      try {
        return await chargeWith(await mesh.issue(orders, "payments", ["payments:charge"], past));
      } finally {
        mesh.shiftIssuerClock(0);
      }
    },
  },
  {
    says: "an attacker forges a token for orders, signed with a key of their own under the issuer's kid",
    expect: { code: status.UNAUTHENTICATED, reason: "ERR_SIGNATURE_INVALID" },
    run: async () => chargeWith(await forge(await mesh.issue(orders, "payments", ["payments:charge"]))),
  },
];

const acks = mesh.natsUrl === undefined ? undefined : await watchAcks(mesh.natsUrl);
/** payments and orders: one instance each, both follow the revocation stream. */
const INSTANCES = 2;

if (acks !== undefined) {
  const revoke = async (request: object, method: "revokeToken" | "revokeService" = "revokeToken"): Promise<string> => {
    const { response, calledAtMs } = await mesh.admin(method, request);
    const applied = await acks.applied(response.receipt?.eventId ?? "", calledAtMs, INSTANCES);
    return `applied by ${applied.length}/${INSTANCES} instances, slowest ${Math.max(...applied.map((a) => a.ms))} ms after the operator's call`;
  };
  steps.push(
    {
      says: "the operator revokes the token orders holds for payments (trustctl revoke token --token ...); orders uses it again",
      expect: { code: status.UNAUTHENTICATED, reason: "ERR_TOKEN_REVOKED" },
      run: async () => {
        const token = await mesh.issue(orders, "payments", ["payments:charge"]);
        const before = await chargeWith(token);
        if (before.code !== status.OK) return before;
        const note = await revoke(adminV1.RevokeTokenRequest.fromPartial({ target: { $case: "token", value: token }, reason: "demo: token leaked" }));
        const after = await chargeWith(token);
        return { code: after.code, said: after.said, note };
      },
    },
    {
      says: "orders holds a receipts stream open at payments; the operator revokes the token it opened it with",
      expect: { code: status.UNAUTHENTICATED, reason: "ERR_TOKEN_REVOKED" },
      run: async () => {
        const token = await mesh.issue(orders, "payments", ["payments:charge"]);
        const metadata = new Metadata();
        metadata.set("authorization", `Bearer ${token}`);
        const stream = paymentsClient.watchReceipts({}, metadata);
        const ended = new Promise<Outcome>((resolve) => {
          stream.on("error", (error: ServiceError) => {
            resolve({ code: error.code, said: error.details });
          });
          stream.on("end", () => {
            resolve({ code: status.OK, said: "the stream ended normally" });
          });
        });
        // A charge's receipt arriving proves the stream is open and admitted.
        const first = new Promise((resolve) => stream.once("data", resolve));
        await chargeWith(await mesh.issue(orders, "payments", ["payments:charge"]));
        await first;
        stream.on("data", () => undefined);
        const note = await revoke(adminV1.RevokeTokenRequest.fromPartial({ target: { $case: "token", value: token }, reason: "demo: stream token revoked" }));
        return { ...(await ended), note };
      },
    },
    {
      says: "the operator revokes the whole storefront service (trustctl revoke service storefront); storefront places another order",
      expect: { code: status.UNAUTHENTICATED, reason: "ERR_TOKEN_REVOKED" },
      run: async () => {
        const note = await revoke({ id: "storefront", reason: "demo: compromised" }, "revokeService");
        const after = await outcome(call<demoV1.PlaceOrderResponse>((done) => ordersClient.placeOrder({ item: "book", amountCents: 4200 }, done)), () => "order placed");
        return { ...after, note };
      },
    },
  );
}

let failures = 0;
for (const [index, step] of steps.entries()) {
  const got = await step.run();
  const ok = got.code === step.expect.code && (step.expect.reason === undefined || got.said === step.expect.reason);
  if (!ok) failures++;
  const expected = `${status[step.expect.code]}${step.expect.reason === undefined ? "" : ` ${step.expect.reason}`}`;
  const note = got.note === undefined ? "" : `\n        ${got.note}`;
  console.log(`${index + 1}. ${step.says}\n   ${ok ? "ok  " : "FAIL"} ${status[got.code]}: ${got.said}${ok ? "" : `   (expected ${expected})`}${note}\n`);
}
console.log(`${steps.length - failures}/${steps.length} steps behaved as stated`);

ordersClient.close();
paymentsClient.close();
await tokens.close();
await acks?.close();
await mesh.close();
process.exitCode = failures === 0 ? 0 : 1;

async function outcome<T>(pending: Promise<T>, describe: (value: T) => string): Promise<Outcome> {
  try {
    return { code: status.OK, said: describe(await pending) };
  } catch (error) {
    const failed = error as ServiceError;
    return { code: failed.code, said: failed.details };
  }
}

/** The same claims as a real token, re-signed with a key the issuer never published. */
async function forge(genuine: string): Promise<string> {
  const { kid } = decodeProtectedHeader(genuine);
  const payload = JSON.parse(Buffer.from(genuine.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
  const attacker = await generateKeyPair("EdDSA");
  return new SignJWT(payload).setProtectedHeader({ alg: "EdDSA", kid: kid ?? "", typ: "at+jwt" }).sign(attacker.privateKey);
}
