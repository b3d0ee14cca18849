/**
 * The issuer's HTTP face, for verifiers in any language: the JWKS at /.well-known/jwks.json
 * and RFC 8414 authorization-server metadata. Read-only and unauthenticated by design: it
 * publishes nothing but public keys.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { PublicJwks } from "../keys/signing-keys.js";

export const JWKS_PATH = "/.well-known/jwks.json";
export const METADATA_PATH = "/.well-known/oauth-authorization-server";
/** Shorter than verifiers' refresh interval, so a CDN in front never hides a new key for long. */
const JWKS_MAX_AGE_SEC = 60;

export interface WellKnownOptions {
  readonly jwks: () => PublicJwks;
  /** Known only once the listener is bound when the issuer URL defaults to it. */
  readonly issuer: () => string;
  readonly algorithms: readonly string[];
  readonly log: Logger;
  /** PEM certificate chain and key: serve https. */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
}

export async function startWellKnownServer(host: string, port: number, options: WellKnownOptions): Promise<{ server: Server; port: number }> {
  const listener = (request: IncomingMessage, response: ServerResponse): void => {
    handle(request, response, options);
  };
  const server: Server = options.tls === undefined ? createServer(listener) : createTlsServer({ cert: options.tls.cert, key: options.tls.key }, listener);
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return { server, port: (server.address() as AddressInfo).port };
}

function handle(request: IncomingMessage, response: ServerResponse, options: WellKnownOptions): void {
  if (request.method !== "GET" && request.method !== "HEAD") {
    respond(response, 405, { error: "method_not_allowed" }, { allow: "GET, HEAD" });
    return;
  }
  const path = (request.url ?? "/").split("?")[0];
  try {
    if (path === JWKS_PATH) {
      respond(response, 200, options.jwks(), { "content-type": "application/jwk-set+json", "cache-control": `public, max-age=${JWKS_MAX_AGE_SEC}` });
    } else if (path === METADATA_PATH) {
      const issuer = options.issuer();
      respond(response, 200, {
        issuer,
        jwks_uri: new URL(JWKS_PATH, issuer).href,
        grant_types_supported: ["client_credentials", "refresh_token"],
        token_endpoint_auth_methods_supported: ["private_key_jwt"],
        token_endpoint_auth_signing_alg_values_supported: ["EdDSA", "ES256"],
        access_token_signing_alg_values_supported: options.algorithms,
      }, { "cache-control": "public, max-age=3600" });
    } else if (path === "/healthz") {
      respond(response, 200, { status: "ok" }, { "cache-control": "no-store" });
    } else {
      respond(response, 404, { error: "not_found" });
    }
  } catch (error) {
    options.log.error({ path, error: error instanceof Error ? error.name : typeof error }, "well-known request failed");
    respond(response, 500, { error: "internal_error" });
  }
}

function respond(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json", "x-content-type-options": "nosniff", "content-length": Buffer.byteLength(text), ...headers });
  response.end(response.req.method === "HEAD" ? undefined : text);
}
