import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";

describe("issuer configuration", () => {
  it("has documented defaults: embedded store, loopback listeners, 10-minute tokens", () => {
    expect(loadConfig({})).toEqual({
      issuer: undefined,
      grpcHost: "127.0.0.1",
      grpcPort: 7070,
      httpHost: "127.0.0.1",
      httpPort: 7071,
      redisUrl: undefined,
      redisKeyPrefix: "trustmesh:",
      natsUrl: undefined,
      kekFile: undefined,
      signingAlgorithm: "EdDSA",
      accessTokenTtlSec: 600,
      refreshTokenTtlSec: 86_400,
      keyRotationIntervalSec: 86_400,
      keyPrePublishSec: 900,
      keyCheckIntervalSec: 60,
      adminAudience: "trustmesh-admin",
      adminKeyFile: ".trustmesh/admin-key.json",
      tls: undefined,
      logLevel: "info",
      shutdownGraceMs: 10_000,
    });
  });

  it("reads every variable", () => {
    const config = loadConfig({
      TRUSTMESH_ISSUER: "https://issuer.example",
      TRUSTMESH_GRPC_ADDRESS: "0.0.0.0:9000",
      TRUSTMESH_TLS_CERT_FILE: "/run/secrets/tls.crt",
      TRUSTMESH_TLS_KEY_FILE: "/run/secrets/tls.key",
      TRUSTMESH_HTTP_ADDRESS: "[::1]:0",
      TRUSTMESH_REDIS_URL: "rediss://redis.internal:6380",
      TRUSTMESH_KEK_FILE: "/run/secrets/kek",
      TRUSTMESH_SIGNING_ALG: "ES256",
      TRUSTMESH_ACCESS_TOKEN_TTL_SEC: "900",
      TRUSTMESH_REFRESH_TOKEN_TTL_SEC: "2592000",
      TRUSTMESH_LOG_LEVEL: "warn",
    });
    expect(config).toMatchObject({ tls: { certFile: "/run/secrets/tls.crt", keyFile: "/run/secrets/tls.key" }, issuer: "https://issuer.example", grpcHost: "0.0.0.0", grpcPort: 9000, httpHost: "[::1]", httpPort: 0, signingAlgorithm: "ES256", accessTokenTtlSec: 900, refreshTokenTtlSec: 2_592_000, logLevel: "warn" });
  });

  it("allows plaintext on a public address only when told so by name", () => {
    expect(loadConfig({ TRUSTMESH_GRPC_ADDRESS: "0.0.0.0:7070", TRUSTMESH_HTTP_ADDRESS: "0.0.0.0:7071", TRUSTMESH_ALLOW_PLAINTEXT: "true" })).toMatchObject({ grpcHost: "0.0.0.0", tls: undefined });
  });

  it.each([
    ["an access token over 15 minutes", { TRUSTMESH_ACCESS_TOKEN_TTL_SEC: "901" }, "TRUSTMESH_ACCESS_TOKEN_TTL_SEC"],
    ["a fractional lifetime", { TRUSTMESH_ACCESS_TOKEN_TTL_SEC: "60.5" }, "TRUSTMESH_ACCESS_TOKEN_TTL_SEC"],
    ["refresh tokens over 30 days", { TRUSTMESH_REFRESH_TOKEN_TTL_SEC: "2592001" }, "TRUSTMESH_REFRESH_TOKEN_TTL_SEC"],
    ["refresh tokens that expire before the access token", { TRUSTMESH_ACCESS_TOKEN_TTL_SEC: "900", TRUSTMESH_REFRESH_TOKEN_TTL_SEC: "600" }, "TRUSTMESH_REFRESH_TOKEN_TTL_SEC"],
    ["an unknown algorithm", { TRUSTMESH_SIGNING_ALG: "HS256" }, "TRUSTMESH_SIGNING_ALG"],
    ["an address without a port", { TRUSTMESH_GRPC_ADDRESS: "localhost" }, "TRUSTMESH_GRPC_ADDRESS"],
    ["a port out of range", { TRUSTMESH_HTTP_ADDRESS: "127.0.0.1:70000" }, "TRUSTMESH_HTTP_ADDRESS"],
    ["an issuer that is not a URL", { TRUSTMESH_ISSUER: "issuer" }, "TRUSTMESH_ISSUER"],
    ["an issuer with a query", { TRUSTMESH_ISSUER: "https://issuer.example/?a=b" }, "TRUSTMESH_ISSUER"],
    ["a NATS URL of another scheme", { TRUSTMESH_NATS_URL: "http://nats:4222" }, "TRUSTMESH_NATS_URL"],
    ["a Redis URL of another scheme", { TRUSTMESH_REDIS_URL: "http://redis" }, "TRUSTMESH_REDIS_URL"],
    ["Redis without a key-encryption key", { TRUSTMESH_REDIS_URL: "redis://127.0.0.1:6390" }, "TRUSTMESH_KEK_FILE"],
    ["pre-publication as long as the rotation interval", { TRUSTMESH_KEY_ROTATION_INTERVAL_SEC: "3600", TRUSTMESH_KEY_PREPUBLISH_SEC: "3600" }, "TRUSTMESH_KEY_PREPUBLISH_SEC"],
    ["an unknown log level", { TRUSTMESH_LOG_LEVEL: "loud" }, "TRUSTMESH_LOG_LEVEL"],
    ["a TLS certificate without its key", { TRUSTMESH_TLS_CERT_FILE: "/tls.crt" }, "TRUSTMESH_TLS_KEY_FILE"],
    ["plaintext gRPC on a public address", { TRUSTMESH_GRPC_ADDRESS: "0.0.0.0:7070" }, "TRUSTMESH_GRPC_ADDRESS"],
    ["plaintext HTTP on a public address", { TRUSTMESH_HTTP_ADDRESS: "10.0.0.5:7071" }, "TRUSTMESH_HTTP_ADDRESS"],
  ])("refuses %s, naming the variable", (_name, env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(expect.objectContaining({ code: "ERR_ISSUER_CONFIG", variable }) as Error);
  });
});
