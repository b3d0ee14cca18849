/**
 * The issuer's configuration, from environment variables only here. Every variable has a
 * documented default (services/issuer/README.md) and is validated at start: a bad value stops
 * the process with a message naming the variable, never with a stack trace.
 */

export interface IssuerConfig {
  /** The `iss` of every token and the `aud` every client assertion must carry. Unset: the
   *  HTTP listener's own URL, known once it is bound. */
  readonly issuer: string | undefined;
  readonly grpcHost: string;
  readonly grpcPort: number;
  readonly httpHost: string;
  readonly httpPort: number;
  /** Unset: the embedded in-memory store (state lost on restart). */
  readonly redisUrl: string | undefined;
  readonly redisKeyPrefix: string;
  /** Unset: no revocation stream; revoke RPCs answer FAILED_PRECONDITION. */
  readonly natsUrl: string | undefined;
  /** Unset: a key-encryption key generated at start (embedded mode only). */
  readonly kekFile: string | undefined;
  readonly signingAlgorithm: "EdDSA" | "ES256";
  readonly accessTokenTtlSec: number;
  readonly refreshTokenTtlSec: number;
  readonly keyRotationIntervalSec: number;
  readonly keyPrePublishSec: number;
  readonly keyCheckIntervalSec: number;
  readonly adminAudience: string;
  readonly adminKeyFile: string;
  /** PEM certificate chain and key for TLS on both listeners; unset: plaintext. */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
  readonly logLevel: "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";
  readonly shutdownGraceMs: number;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly code = "ERR_ISSUER_CONFIG";
  readonly variable: string;

  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.variable = variable;
  }
}

export const MAX_ACCESS_TOKEN_TTL_SEC = 900;
export const MAX_REFRESH_TOKEN_TTL_SEC = 30 * 86_400;
/** Verifiers refresh their JWKS every 5 minutes by default; a new key waits out three of those. */
export const DEFAULT_KEY_PREPUBLISH_SEC = 900;

type Env = Readonly<Record<string, string | undefined>>;

export function loadConfig(env: Env = process.env): IssuerConfig {
  const read = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === "" ? undefined : value.trim();
  };
  const grpc = address(read, "TRUSTMESH_GRPC_ADDRESS", "127.0.0.1:7070");
  const http = address(read, "TRUSTMESH_HTTP_ADDRESS", "127.0.0.1:7071");
  const issuer = read("TRUSTMESH_ISSUER");
  if (issuer !== undefined) checkIssuer(issuer);
  const redisUrl = read("TRUSTMESH_REDIS_URL");
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) throw new ConfigError("TRUSTMESH_REDIS_URL", "must be a redis:// or rediss:// URL");
  const natsUrl = read("TRUSTMESH_NATS_URL");
  if (natsUrl !== undefined && !/^(nats|tls):\/\//.test(natsUrl)) throw new ConfigError("TRUSTMESH_NATS_URL", "must be a nats:// or tls:// URL");
  const kekFile = read("TRUSTMESH_KEK_FILE");
  if (redisUrl !== undefined && kekFile === undefined) {
    throw new ConfigError("TRUSTMESH_KEK_FILE", "is required with TRUSTMESH_REDIS_URL: replicas and restarts must share the key-encryption key");
  }
  const algorithm = read("TRUSTMESH_SIGNING_ALG") ?? "EdDSA";
  if (algorithm !== "EdDSA" && algorithm !== "ES256") throw new ConfigError("TRUSTMESH_SIGNING_ALG", "must be EdDSA or ES256");
  const certFile = read("TRUSTMESH_TLS_CERT_FILE");
  const tlsKeyFile = read("TRUSTMESH_TLS_KEY_FILE");
  if ((certFile === undefined) !== (tlsKeyFile === undefined)) {
    throw new ConfigError(certFile === undefined ? "TRUSTMESH_TLS_CERT_FILE" : "TRUSTMESH_TLS_KEY_FILE", "TLS needs both TRUSTMESH_TLS_CERT_FILE and TRUSTMESH_TLS_KEY_FILE");
  }
  const tls = certFile === undefined || tlsKeyFile === undefined ? undefined : { certFile, keyFile: tlsKeyFile };
  // Tokens and assertions cross the wire in the clear without TLS: fine on loopback, and
  // elsewhere only when the operator says so (a sidecar that terminates mTLS, say).
  if (tls === undefined && read("TRUSTMESH_ALLOW_PLAINTEXT") !== "true") {
    for (const [name, listener] of [["TRUSTMESH_GRPC_ADDRESS", grpc], ["TRUSTMESH_HTTP_ADDRESS", http]] as const) {
      if (!isLoopback(listener.host)) {
        throw new ConfigError(name, "plaintext on a non-loopback address: set TRUSTMESH_TLS_CERT_FILE and TRUSTMESH_TLS_KEY_FILE, or TRUSTMESH_ALLOW_PLAINTEXT=true behind a TLS-terminating proxy");
      }
    }
  }
  const logLevel = read("TRUSTMESH_LOG_LEVEL") ?? "info";
  if (!["trace", "debug", "info", "warn", "error", "fatal", "silent"].includes(logLevel)) {
    throw new ConfigError("TRUSTMESH_LOG_LEVEL", "must be one of trace, debug, info, warn, error, fatal, silent");
  }
  const keyRotationIntervalSec = integer(read, "TRUSTMESH_KEY_ROTATION_INTERVAL_SEC", 86_400, 3_600, 90 * 86_400);
  const keyPrePublishSec = integer(read, "TRUSTMESH_KEY_PREPUBLISH_SEC", DEFAULT_KEY_PREPUBLISH_SEC, 0, 86_400);
  if (keyPrePublishSec >= keyRotationIntervalSec) {
    throw new ConfigError("TRUSTMESH_KEY_PREPUBLISH_SEC", "must be shorter than TRUSTMESH_KEY_ROTATION_INTERVAL_SEC");
  }
  const accessTokenTtlSec = integer(read, "TRUSTMESH_ACCESS_TOKEN_TTL_SEC", 600, 60, MAX_ACCESS_TOKEN_TTL_SEC);
  const refreshTokenTtlSec = integer(read, "TRUSTMESH_REFRESH_TOKEN_TTL_SEC", 86_400, 300, MAX_REFRESH_TOKEN_TTL_SEC);
  if (refreshTokenTtlSec <= accessTokenTtlSec) {
    throw new ConfigError("TRUSTMESH_REFRESH_TOKEN_TTL_SEC", "must be longer than TRUSTMESH_ACCESS_TOKEN_TTL_SEC, or a refresh token expires before it is needed");
  }
  return {
    issuer,
    grpcHost: grpc.host,
    grpcPort: grpc.port,
    httpHost: http.host,
    httpPort: http.port,
    redisUrl,
    redisKeyPrefix: read("TRUSTMESH_REDIS_KEY_PREFIX") ?? "trustmesh:",
    natsUrl,
    kekFile,
    signingAlgorithm: algorithm,
    accessTokenTtlSec,
    refreshTokenTtlSec,
    keyRotationIntervalSec,
    keyPrePublishSec,
    keyCheckIntervalSec: integer(read, "TRUSTMESH_KEY_CHECK_INTERVAL_SEC", 60, 1, 3_600),
    adminAudience: read("TRUSTMESH_ADMIN_AUDIENCE") ?? "trustmesh-admin",
    adminKeyFile: read("TRUSTMESH_ADMIN_KEY_FILE") ?? ".trustmesh/admin-key.json",
    tls,
    logLevel: logLevel as IssuerConfig["logLevel"],
    shutdownGraceMs: integer(read, "TRUSTMESH_SHUTDOWN_GRACE_MS", 10_000, 0, 300_000),
  };
}

function integer(read: (name: string) => string | undefined, name: string, fallback: number, min: number, max: number): number {
  const text = read(name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) throw new ConfigError(name, `must be a whole number from ${min} to ${max}`);
  return value;
}

function address(read: (name: string) => string | undefined, name: string, fallback: string): { host: string; port: number } {
  const text = read(name) ?? fallback;
  const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  const port = Number(match?.[2]);
  if (match?.[1] === undefined || port > 65_535) throw new ConfigError(name, "must be host:port (port 0 picks a free one)");
  return { host: match[1], port };
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function checkIssuer(issuer: string): void {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new ConfigError("TRUSTMESH_ISSUER", "must be a URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new ConfigError("TRUSTMESH_ISSUER", "must be an https (or, locally, http) URL");
  if (url.search !== "" || url.hash !== "" || url.username !== "") throw new ConfigError("TRUSTMESH_ISSUER", "must have no query, fragment or credentials (RFC 8414)");
}
