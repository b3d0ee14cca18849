/**
 * Assembles a running issuer from its configuration: store, sealed signing keys, the HTTP
 * well-known endpoints, and one gRPC server carrying TokenIssuer, the admin API, health and
 * reflection behind the trustmesh interceptor. Used by main.ts, the demo and the tests.
 */

import { Server, ServerCredentials } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { createAuthInterceptor, HEALTH_AND_REFLECTION_POLICIES, policiesFromProto } from "@trustmesh/grpc";
import { adminV1, issuerV1, PROTO_ROOT } from "@trustmesh/proto";
import { createVerifier } from "@trustmesh/verifier";
import { HealthImplementation } from "grpc-health-check";
import { pino, type Logger } from "pino";
import { bootstrapAdmin, ADMIN_SERVICE_ID } from "./bootstrap-admin.js";
import type { IssuerConfig } from "./config.js";
import { adminHandlers } from "./grpc/admin-handlers.js";
import { tokenIssuerHandlers } from "./grpc/token-issuer-handlers.js";
import { startWellKnownServer } from "./http/well-known-server.js";
import { KeyEncryptionKey } from "./keys/key-encryption.js";
import { signingKeySource } from "./keys/signing-key-source.js";
import { SigningKeys } from "./keys/signing-keys.js";
import { createMemoryStore, createRedisStore, type IssuerStore } from "./store/index.js";
import { TokenService } from "./tokens/token-service.js";

/** Verifiers tolerate this much clock skew; retired keys stay published that much longer. */
const VERIFIER_CLOCK_TOLERANCE_SEC = 30;
const ISSUER_PROTOS = ["trustmesh/issuer/v1/issuer.proto", "trustmesh/admin/v1/admin.proto"];

export interface StartIssuerOptions {
  readonly config: IssuerConfig;
  readonly logger?: Logger;
  readonly now?: () => number;
}

export interface RunningIssuer {
  readonly issuer: string;
  readonly grpcAddress: string;
  readonly httpUrl: string;
  readonly adminAudience: string;
  readonly store: IssuerStore;
  readonly signingKeys: SigningKeys;
  readonly log: Logger;
  /** Stops taking calls, lets in-flight ones finish for up to `graceMs`, then closes everything. */
  close(graceMs?: number): Promise<void>;
}

/** Never in a log line: tokens, assertions, refresh tokens, keys. pino censors them by path. */
export const REDACTED_LOG_PATHS = [
  "accessToken",
  "refreshToken",
  "clientAssertion",
  "token",
  "privateJwk",
  "*.accessToken",
  "*.refreshToken",
  "*.clientAssertion",
  "*.token",
  "*.privateJwk",
  "*.d",
  "headers.authorization",
];

export function createIssuerLogger(level: IssuerConfig["logLevel"], destination?: NodeJS.WritableStream): Logger {
  const options = { level, base: { service: "trustmesh-issuer" }, redact: { paths: REDACTED_LOG_PATHS, censor: "[redacted]" } };
  return destination === undefined ? pino(options) : pino(options, destination);
}

export async function startIssuer(options: StartIssuerOptions): Promise<RunningIssuer> {
  const { config } = options;
  const now = options.now ?? Date.now;
  const log = options.logger ?? createIssuerLogger(config.logLevel);

  const store = config.redisUrl === undefined ? createMemoryStore({ now }) : createRedisStore({ url: config.redisUrl, keyPrefix: config.redisKeyPrefix, now, logger: log });
  if (store.kind === "memory") log.warn("no TRUSTMESH_REDIS_URL: using the embedded in-memory store; every identity, key and refresh token is lost on restart");
  await store.ready();

  let kek: KeyEncryptionKey;
  if (config.kekFile === undefined) {
    log.warn("no TRUSTMESH_KEK_FILE: generated a key-encryption key for this process only (embedded mode); signing keys cannot survive a restart");
    kek = KeyEncryptionKey.generate();
  } else {
    kek = await KeyEncryptionKey.fromFile(config.kekFile);
  }
  const signingKeys = new SigningKeys({
    store,
    kek,
    algorithm: config.signingAlgorithm,
    timing: {
      prePublishMs: config.keyPrePublishSec * 1000,
      rotationIntervalMs: config.keyRotationIntervalSec * 1000,
      tokenHorizonMs: (config.accessTokenTtlSec + VERIFIER_CLOCK_TOLERANCE_SEC) * 1000,
    },
    checkIntervalMs: config.keyCheckIntervalSec * 1000,
    now,
    onRotated: (event) => {
      log.info(event, "signing key rotated");
    },
  });
  await signingKeys.start();

  let issuer = config.issuer ?? "";
  const http = await startWellKnownServer(config.httpHost, config.httpPort, { jwks: () => signingKeys.jwks(), issuer: () => issuer, algorithms: [config.signingAlgorithm], log });
  const httpUrl = `http://${config.httpHost}:${http.port}`;
  issuer ||= httpUrl;
  await bootstrapAdmin({ store, keyFile: config.adminKeyFile, issuer, adminAudience: config.adminAudience, log });

  const definitions = loadSync(ISSUER_PROTOS, { includeDirs: [PROTO_ROOT] });
  const verifier = createVerifier({ issuer, audience: config.adminAudience, keySource: signingKeySource(signingKeys, (fields, message) => log.warn(fields, message)), now, logger: log });
  const interceptor = createAuthInterceptor({ verifier, policies: { ...policiesFromProto(definitions), ...HEALTH_AND_REFLECTION_POLICIES }, logger: log });
  const tokens = new TokenService({
    issuer,
    store,
    signingKeys,
    accessTokenTtlSec: config.accessTokenTtlSec,
    refreshTokenTtlSec: config.refreshTokenTtlSec,
    now,
    onFamilyRevoked: (event) => {
      log.warn({ familyId: event.familyId, clientId: event.clientId, accessTokens: event.accessTokens.length }, "refresh token reused: family revoked");
    },
  });

  const server = new Server({ interceptors: [interceptor] });
  server.addService(issuerV1.TokenIssuerService, tokenIssuerHandlers(tokens, signingKeys, log));
  server.addService(adminV1.IssuerAdminService, adminHandlers(store, signingKeys, log));
  const health = new HealthImplementation({ "": "SERVING", "trustmesh.issuer.v1.TokenIssuer": "SERVING", "trustmesh.admin.v1.IssuerAdmin": "SERVING" });
  health.addToServer(server);
  new ReflectionService(definitions).addToServer(server);
  const grpcPort = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${config.grpcHost}:${config.grpcPort}`, ServerCredentials.createInsecure(), (error, port) => {
      if (error === null) resolve(port);
      else reject(error);
    });
  });
  const grpcAddress = `${config.grpcHost}:${grpcPort}`;
  log.info({ issuer, grpc: grpcAddress, http: httpUrl, store: store.kind, alg: config.signingAlgorithm, activeKid: signingKeys.activeKid, admin: ADMIN_SERVICE_ID }, "issuer started");

  let closing: Promise<void> | undefined;
  return {
    issuer,
    grpcAddress,
    httpUrl,
    adminAudience: config.adminAudience,
    store,
    signingKeys,
    log,
    close(graceMs = config.shutdownGraceMs) {
      closing ??= (async () => {
        for (const service of ["", "trustmesh.issuer.v1.TokenIssuer", "trustmesh.admin.v1.IssuerAdmin"]) health.setStatus(service, "NOT_SERVING");
        await shutdownGrpc(server, graceMs);
        await new Promise<void>((resolve) => http.server.close(() => {
          resolve();
        }));
        http.server.closeAllConnections();
        signingKeys.close();
        await store.close();
        log.info("issuer stopped");
      })();
      return closing;
    },
  };
}

/** tryShutdown lets in-flight calls finish; past the grace period the rest are cancelled. */
async function shutdownGrpc(server: Server, graceMs: number): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

