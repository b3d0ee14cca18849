/** demo-payments configuration: environment variables only here, each with its default. */
export interface PaymentsConfig {
  /** The issuer's identifier, compared exactly with `iss`. */
  readonly issuer: string;
  readonly jwksUrl: string;
  /** Unset: no revocation feed (tokens are refused only by expiry). */
  readonly natsUrl: string | undefined;
  readonly host: string;
  readonly port: number;
}

export function loadPaymentsConfig(env: Readonly<Record<string, string | undefined>> = process.env): PaymentsConfig {
  const issuer = env["TRUSTMESH_ISSUER"] ?? "http://127.0.0.1:7071";
  const address = env["DEMO_PAYMENTS_ADDRESS"] ?? "127.0.0.1:7080";
  const match = /^(.+):(\d{1,5})$/.exec(address);
  if (match?.[1] === undefined || match[2] === undefined) throw new Error(`DEMO_PAYMENTS_ADDRESS: must be host:port, got ${address}`);
  return { issuer, jwksUrl: env["TRUSTMESH_JWKS_URL"] ?? new URL("/.well-known/jwks.json", issuer).href,
    natsUrl: env["TRUSTMESH_NATS_URL"], host: match[1], port: Number(match[2]) };
}
