/**
 * Assembles a running issuer from its configuration: store, sealed signing keys, the HTTP
 * well-known endpoints, and one gRPC server carrying TokenIssuer, the admin API, health and
 * reflection behind the trustmesh interceptor. Used by main.ts, the demo and the tests.
 */

import { readFile } from "node:fs/promises";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { createAuthInterceptor, HEALTH_AND_REFLECTION_POLICIES, policiesFromProto } from "@trustmesh/grpc";
import { adminV1, issuerV1, PROTO_ROOT } from "@trustmesh/proto";
import { createVerifier } from "@trustmesh/verifier";
import { HealthImplementation } from "grpc-health-check";
import { pino, type Logger } from "pino";
import { bootstrapAdmin, ADMIN_SERVICE_ID } from "./bootstrap-admin.js";
import { MAX_ACCESS_TOKEN_TTL_SEC, type IssuerConfig } from "./config.js";
import { adminHandlers } from "./grpc/admin-handlers.js";
import { tokenIssuerHandlers } from "./grpc/token-issuer-handlers.js";
import { startWellKnownServer } from "./http/well-known-server.js";
import { KeyEncryptionKey } from "./keys/key-encryption.js";
import { signingKeySource } from "./keys/signing-key-source.js";
import { SigningKeys } from "./keys/signing-keys.js";
import { createMemoryStore, createRedisStore, type IssuerStore } from "./store/index.js";
import { TokenService } from "./tokens/token-service.js";
import { revocationHandlers } from "./grpc/revocation-handlers.js";
import { createRevocationPublisher, type RevocationPublisher } from "@trustmesh/revocation";

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
    kek = await KeyEncryptionKey.fromFile(config.kekFile, (mode) => {
      log.warn({ kekFile: config.kekFile, mode: mode.toString(8) }, "the key-encryption key file is readable by other users; chmod 600 it");
    });
  }
  const signingKeys = new SigningKeys({
    store,
    kek,
    algorithm: config.signingAlgorithm,
    timing: {
      prePublishMs: config.keyPrePublishSec * 1000,
      rotationIntervalMs: config.keyRotationIntervalSec * 1000,
      // A replica that has not reloaded yet may sign with the old key for one check interval.
      tokenHorizonMs: (config.accessTokenTtlSec + VERIFIER_CLOCK_TOLERANCE_SEC + config.keyCheckIntervalSec) * 1000,
    },
    checkIntervalMs: config.keyCheckIntervalSec * 1000,
    now,
    onRotated: (event) => {
      log.info(event, "signing key rotated");
    },
  });
  await signingKeys.start();

  const tls = config.tls === undefined ? undefined : { cert: await readFile(config.tls.certFile), key: await readFile(config.tls.keyFile) };
  let issuer = config.issuer ?? "";
  const http = await startWellKnownServer(config.httpHost, config.httpPort, {
    jwks: () => signingKeys.jwks(),
    issuer: () => issuer,
    algorithms: [config.signingAlgorithm],
    log,
    ...(tls === undefined ? {} : { tls }),
  });
  const httpUrl = `${tls === undefined ? "http" : "https"}://${config.httpHost}:${http.port}`;
  issuer ||= httpUrl;
  await bootstrapAdmin({ store, keyFile: config.adminKeyFile, issuer, adminAudience: config.adminAudience, log });

  let publisher: RevocationPublisher | undefined;
  if (config.natsUrl === undefined) {
    log.warn("no TRUSTMESH_NATS_URL: revocations cannot be published; revoke RPCs answer FAILED_PRECONDITION and a reused refresh token only disables its family here");
  } else {
    publisher = createRevocationPublisher({ servers: config.natsUrl, maxTokenLifetimeSec: MAX_ACCESS_TOKEN_TTL_SEC, toleranceSec: VERIFIER_CLOCK_TOLERANCE_SEC, now, logger: log });
  }

  const definitions = loadSync(ISSUER_PROTOS, { includeDirs: [PROTO_ROOT] });
  const keySource = signingKeySource(signingKeys, (fields, message) => { log.warn(fields, message); });
  const verifier = createVerifier({ issuer, audience: config.adminAudience, keySource, now, logger: log });
  const interceptor = createAuthInterceptor({ verifier, policies: { ...policiesFromProto(definitions), ...HEALTH_AND_REFLECTION_POLICIES }, logger: log });
  const tokens = new TokenService({
    issuer,
    store,
    signingKeys,
    accessTokenTtlSec: config.accessTokenTtlSec,
    refreshTokenTtlSec: config.refreshTokenTtlSec,
    now,
    onFamilyRevoked: async (event) => {
      log.warn({ familyId: event.familyId, clientId: event.clientId, accessTokens: event.accessTokens.length }, "refresh token reused: family revoked");
      if (publisher === undefined) return;
      // Every access token the family minted is revoked everywhere, not only the refresh chain.
      const published = await Promise.allSettled(
        event.accessTokens.map((token) => publisher.revokeToken({ jti: token.jti, sub: event.clientId, exp: token.exp, reason: "refresh token reused", actor: "trustmesh-issuer" })),
      );
      const failed = published.filter((result) => result.status === "rejected").length;
      if (failed > 0) log.error({ familyId: event.familyId, failed }, "could not publish every revocation of a reused refresh family");
    },
  });

  const server = new Server({ interceptors: [interceptor] });
  server.addService(issuerV1.TokenIssuerService, tokenIssuerHandlers(tokens, signingKeys, log));
  server.addService(adminV1.IssuerAdminService, {
    ...adminHandlers(store, signingKeys, log),
    ...revocationHandlers({ store, signingKeys, keySource, publisher, issuer, now, log }),
  } satisfies adminV1.IssuerAdminServer);
  const health = new HealthImplementation({ "": "SERVING", "trustmesh.issuer.v1.TokenIssuer": "SERVING", "trustmesh.admin.v1.IssuerAdmin": "SERVING" });
  health.addToServer(server);
  new ReflectionService(definitions).addToServer(server);
  const grpcPort = await new Promise<number>((resolve, reject) => {
    const serverCredentials = tls === undefined ? ServerCredentials.createInsecure() : ServerCredentials.createSsl(null, [{ cert_chain: tls.cert, private_key: tls.key }], false);
    server.bindAsync(`${config.grpcHost}:${config.grpcPort}`, serverCredentials, (error, port) => {
      if (error === null) resolve(port);
      else reject(error);
    });
  });
  const grpcAddress = `${config.grpcHost}:${grpcPort}`;
  log.info({ issuer, grpc: grpcAddress, http: httpUrl, tls: tls !== undefined, store: store.kind, alg: config.signingAlgorithm, activeKid: signingKeys.activeKid, admin: ADMIN_SERVICE_ID }, "issuer started");

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
        await publisher?.close();
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

