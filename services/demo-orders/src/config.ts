import { readFileSync } from "node:fs";
import type { ServicePrivateJwk } from "@trustmesh/grpc";

/** demo-orders configuration: environment variables only here, each with its default. */
export interface OrdersConfig {
  readonly issuer: string;
  readonly issuerAddress: string;
  readonly jwksUrl: string;
  /** Unset: no revocation feed (tokens are refused only by expiry). */
  readonly natsUrl: string | undefined;
  readonly host: string;
  readonly port: number;
  readonly paymentsAddress: string;
  /** Talk to the issuer without TLS: only for a local mesh on loopback. */
  readonly issuerPlaintext: boolean;
  /** The service key file `trustctl service register` wrote: `{ serviceId, issuer, privateJwk }`. */
  readonly serviceId: string;
  readonly privateJwk: ServicePrivateJwk;
}

export function loadOrdersConfig(env: Readonly<Record<string, string | undefined>> = process.env): OrdersConfig {
  const issuer = env["TRUSTMESH_ISSUER"] ?? "http://127.0.0.1:7071";
  const keyFile = env["DEMO_ORDERS_KEY_FILE"] ?? "orders.key.json";
  const key = JSON.parse(readFileSync(keyFile, "utf8")) as { serviceId?: string; privateJwk?: ServicePrivateJwk };
  if (typeof key.serviceId !== "string" || key.privateJwk === undefined) throw new Error(`DEMO_ORDERS_KEY_FILE: ${keyFile} is not a trustmesh service key file`);
  const [host, port] = hostPort("DEMO_ORDERS_ADDRESS", env["DEMO_ORDERS_ADDRESS"] ?? "127.0.0.1:7090");
  return {
    issuer,
    issuerAddress: env["TRUSTMESH_ISSUER_ADDRESS"] ?? "127.0.0.1:7070",
    jwksUrl: env["TRUSTMESH_JWKS_URL"] ?? new URL("/.well-known/jwks.json", issuer).href,
    natsUrl: env["TRUSTMESH_NATS_URL"],
    host,
    port,
    paymentsAddress: env["DEMO_PAYMENTS_ADDRESS"] ?? "127.0.0.1:7080",
    issuerPlaintext: env["DEMO_ISSUER_PLAINTEXT"] === "true",
    serviceId: key.serviceId,
    privateJwk: key.privateJwk,
  };
}

function hostPort(variable: string, text: string): [string, number] {
  const match = /^(.+):(\d{1,5})$/.exec(text);
  if (match?.[1] === undefined || match[2] === undefined) throw new Error(`${variable}: must be host:port, got ${text}`);
  return [match[1], Number(match[2])];
}
