/**
 * The production store: Redis through ioredis, shared by every issuer replica. Writes that must
 * be atomic are single commands or one Lua script (redis-scripts.ts). Key layout, under the
 * prefix (default "trustmesh:"):
 *
 *   services                      hash   service id -> identity JSON (carries its revision)
 *   keyring                       hash   v -> version, k -> signing keys JSON
 *   jti:<clientId>:<jti>          string "1", EX until the assertion's exp + slack
 *   rt:{<familyId>}:<hash>        hash   c a sc i e (client, audience, scopes, iat, exp), s once spent
 *   rf:{<familyId>}               hash   c (client), r (revoked at); lives as long as its tokens
 *   rf:{<familyId>}:at            zset   access-token jti scored by exp
 *
 * The braces are Redis Cluster hash tags: every key of one family lands in one slot, so the
 * family scripts stay atomic there too.
 */
import { StoreError } from "./errors.js";
import { MAX_REFRESH_TOKEN_LIFETIME_SEC, RETENTION_SLACK_SEC } from "./limits.js";
import { checkKeyPrefix, openRedisConnection, type RedisConnectionOptions } from "./redis-connection.js";
import {
  RECORD_ACCESS_TOKEN,
  REPLACE_SERVICE,
  REVOKE_FAMILY,
  ROTATE_REFRESH_TOKEN,
  SAVE_REFRESH_TOKEN,
  SET_KEYRING,
  runScript,
} from "./redis-scripts.js";
import { changedServiceDocument, decodeService, encodeService, newServiceDocument } from "./service-identity.js";
import type {
  AccessTokenRef,
  IssuerStore,
  Keyring,
  RefreshTokenRecord,
  RotateRefreshTokenResult,
  ServiceIdentity,
} from "./types.js";
import {
  checkAccessTokenRef,
  checkAudience,
  checkClock,
  checkEpochSec,
  checkFamilyId,
  checkJti,
  checkRevision,
  checkRotateRequest,
  checkSaveRequest,
  checkScopes,
  checkServiceId,
  checkSigningKeys,
  decodeStored,
  isPlainObject,
  successorRecord,
} from "./validate.js";

export interface RedisStoreOptions extends RedisConnectionOptions {
  /** Prepended to every key; lets several meshes (or test runs) share one Redis. */
  readonly keyPrefix?: string;
  /** Milliseconds since the epoch, for every expiry decision. Key TTLs are derived from it and
   *  then run down in the server's real time. */
  readonly now?: () => number;
}

export interface RedisIssuerStore extends IssuerStore {
  readonly kind: "redis";
}

/** disableService re-reads after losing a race to another writer; more losses than this means a storm. */
const MAX_DISABLE_ATTEMPTS = 5;
const REVOKED_FAMILY_TTL_SEC = MAX_REFRESH_TOKEN_LIFETIME_SEC + RETENTION_SLACK_SEC;

export function createRedisStore(options: RedisStoreOptions): RedisIssuerStore {
  if (!isPlainObject(options)) {
    throw new StoreError("ERR_STORE_OPTIONS", "options: must be an object", { field: "options" });
  }
  const prefix = checkKeyPrefix(options.keyPrefix);
  const now = checkClock(options.now);
  const connection = openRedisConnection(options);
  const { run, label } = connection;
  const keys = {
    services: `${prefix}services`,
    keyring: `${prefix}keyring`,
    jti: (clientId: string, jti: string) => `${prefix}jti:${clientId}:${jti}`,
    token: (familyId: string, hash: string) => `${prefix}rt:{${familyId}}:${hash}`,
    family: (familyId: string) => `${prefix}rf:{${familyId}}`,
    accessTokens: (familyId: string) => `${prefix}rf:{${familyId}}:at`,
  };
  const nowSec = (): number => Math.floor(now() / 1000);
  /** Seconds a key must live to outlast `untilSec` by the slack; never 0, which EXPIRE reads as "delete". */
  const ttlUntil = (untilSec: number, at: number): number => Math.max(1, untilSec + RETENTION_SLACK_SEC - at);
  const corrupt = (what: string): StoreError =>
    new StoreError("ERR_STORE_CORRUPT", `issuer store (${label}): unexpected reply for ${what}`);

  async function mutateService(
    id: string,
    expectedRevision: number | undefined,
    mutate: (current: ServiceIdentity, nowMs: number) => ServiceIdentity,
  ): Promise<ServiceIdentity> {
    for (let attempt = 1; ; attempt++) {
      const json = await run((c) => c.hget(keys.services, id));
      if (json === null) throw new StoreError("ERR_SERVICE_NOT_FOUND", `no service ${id}`);
      const current = decodeService(json);
      if (expectedRevision !== undefined && current.revision !== expectedRevision) {
        throw new StoreError("ERR_STALE_REVISION", `service ${id} is at revision ${current.revision}, not ${expectedRevision}`);
      }
      const next = mutate(current, now());
      if (next === current) return current;
      const result = await run((c) => runScript(c, REPLACE_SERVICE, [keys.services], [id, json, encodeService(next)]));
      if (result === "replaced") return next;
      if (result === "not-found") throw new StoreError("ERR_SERVICE_NOT_FOUND", `no service ${id}`);
      if (result !== "stale") throw corrupt("replace-service");
      if (expectedRevision !== undefined || attempt >= MAX_DISABLE_ATTEMPTS) {
        throw new StoreError("ERR_STALE_REVISION", `service ${id} changed while it was being updated`);
      }
    }
  }

  function accessArgs(token: AccessTokenRef | undefined, at: number): (string | number)[] {
    if (token === undefined) return ["", 0, 1];
    return [token.jti, token.exp, ttlUntil(token.exp, at)];
  }

  return {
    kind: "redis",

    async ready() {
      await run((c) => c.ping());
    },

    async registerService(identity) {
      const service = newServiceDocument(identity, now());
      const added = await run((c) => c.hsetnx(keys.services, service.id, encodeService(service)));
      if (added === 0) throw new StoreError("ERR_SERVICE_EXISTS", `service ${service.id} is already registered`);
      return service;
    },

    async getService(id) {
      const json = await run((c) => c.hget(keys.services, checkServiceId(id, "id")));
      return json === null ? undefined : decodeService(json);
    },

    async listServices() {
      const all = await run((c) => c.hvals(keys.services));
      return all.map(decodeService).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },

    async updateService(id, expectedRevision, changes) {
      checkServiceId(id, "id");
      const revision = checkRevision(expectedRevision, "expectedRevision");
      return mutateService(id, revision, (current, nowMs) => changedServiceDocument(current, changes, nowMs));
    },

    async disableService(id) {
      checkServiceId(id, "id");
      return mutateService(id, undefined, (current, nowMs) =>
        current.status === "disabled" ? current : changedServiceDocument(current, { status: "disabled" }, nowMs),
      );
    },

    async consumeAssertionJti(clientId, jti, expiresAtSec) {
      const key = keys.jti(checkServiceId(clientId, "clientId"), checkJti(jti, "jti"));
      const ttl = ttlUntil(checkEpochSec(expiresAtSec, "expiresAtSec"), nowSec());
      return (await run((c) => c.set(key, "1", "EX", ttl, "NX"))) === "OK";
    },

    async saveRefreshToken(hash, record, accessToken) {
      const at = nowSec();
      const { hash: checked, record: r, accessToken: token } = checkSaveRequest(hash, record, accessToken, at);
      const result = await run((c) =>
        runScript(
          c,
          SAVE_REFRESH_TOKEN,
          [keys.token(r.familyId, checked), keys.family(r.familyId), keys.accessTokens(r.familyId)],
          [r.clientId, r.audience, JSON.stringify(r.scopes), r.issuedAtSec, r.expiresAtSec, ttlUntil(r.expiresAtSec, at)]
            .concat(accessArgs(token, at), [at - RETENTION_SLACK_SEC]),
        ),
      );
      if (result === "saved") return;
      if (result === "family-revoked") throw new StoreError("ERR_FAMILY_REVOKED", `refresh family ${r.familyId} is revoked`);
      if (result === "exists") {
        throw new StoreError("ERR_REFRESH_TOKEN_EXISTS", `refresh family ${r.familyId} already has this token`);
      }
      throw corrupt("save-refresh-token");
    },

    async rotateRefreshToken(input): Promise<RotateRefreshTokenResult> {
      const at = nowSec();
      const request = checkRotateRequest(input, at);
      const { familyId } = request;
      const reply = await run((c) =>
        runScript(
          c,
          ROTATE_REFRESH_TOKEN,
          [keys.token(familyId, request.oldHash), keys.token(familyId, request.newHash), keys.family(familyId), keys.accessTokens(familyId)],
          [request.clientId, at, request.expiresAtSec, ttlUntil(request.expiresAtSec, at)]
            .concat(accessArgs(request.accessToken, at), [at - RETENTION_SLACK_SEC, REVOKED_FAMILY_TTL_SEC]),
        ),
      );
      if (!Array.isArray(reply)) throw corrupt("rotate-refresh-token");
      const [outcome, ...rest] = reply as unknown[];
      switch (outcome) {
        case "family-revoked":
        case "unknown":
        case "client-mismatch":
        case "expired":
          return { outcome };
        case "reused":
          return { outcome, revokedAccessTokens: accessTokensOf(rest) };
        case "exists":
          throw new StoreError("ERR_REFRESH_TOKEN_EXISTS", `refresh family ${familyId} already has the new token`);
        case "rotated": {
          const previous = decodeStored("refresh token", (): RefreshTokenRecord => ({
            familyId,
            clientId: request.clientId,
            audience: checkAudience(rest[0], "audience"),
            scopes: checkScopes(JSON.parse(String(rest[1])), "scopes"),
            issuedAtSec: checkEpochSec(Number(rest[2]), "issuedAtSec"),
            expiresAtSec: checkEpochSec(Number(rest[3]), "expiresAtSec"),
          }));
          return { outcome, previous, current: successorRecord(previous, request.expiresAtSec, at) };
        }
        default:
          throw corrupt("rotate-refresh-token");
      }
    },

    async recordAccessToken(familyId, jti, expSec) {
      const at = nowSec();
      const token = checkAccessTokenRef({ jti, exp: expSec }, "accessToken");
      checkFamilyId(familyId);
      const recorded = await run((c) =>
        runScript(
          c,
          RECORD_ACCESS_TOKEN,
          [keys.family(familyId), keys.accessTokens(familyId)],
          [...accessArgs(token, at), at - RETENTION_SLACK_SEC],
        ),
      );
      if (recorded === 0) throw new StoreError("ERR_FAMILY_REVOKED", `refresh family ${familyId} is revoked`);
    },

    async revokeFamily(familyId) {
      const at = nowSec();
      checkFamilyId(familyId);
      const reply = await run((c) =>
        runScript(c, REVOKE_FAMILY, [keys.family(familyId), keys.accessTokens(familyId)], [
          at,
          REVOKED_FAMILY_TTL_SEC,
          at - RETENTION_SLACK_SEC,
        ]),
      );
      if (!Array.isArray(reply)) throw corrupt("revoke-family");
      return accessTokensOf(reply as unknown[]);
    },

    async isFamilyRevoked(familyId) {
      checkFamilyId(familyId);
      return (await run((c) => c.hexists(keys.family(familyId), "r"))) === 1;
    },

    async getKeyring(): Promise<Keyring> {
      const [version, json] = await run((c) => c.hmget(keys.keyring, "v", "k"));
      if (version === null || version === undefined) return { version: 0, keys: [] };
      return decodeStored("keyring", () => ({
        version: checkRevision(Number(version), "version"),
        keys: checkSigningKeys(JSON.parse(json ?? "")),
      }));
    },

    async compareAndSetKeyring(expectedVersion, signingKeys) {
      const version = checkRevision(expectedVersion, "expectedVersion");
      const json = JSON.stringify(checkSigningKeys(signingKeys));
      return (await run((c) => runScript(c, SET_KEYRING, [keys.keyring], [version, json]))) === 1;
    },

    close: () => connection.close(),
  };
}

/** ZRANGEBYSCORE … WITHSCORES: jti, exp, jti, exp… */
function accessTokensOf(flat: readonly unknown[]): AccessTokenRef[] {
  return decodeStored("access tokens", () => {
    const tokens: AccessTokenRef[] = [];
    for (let index = 0; index + 1 < flat.length; index += 2) {
      tokens.push({ jti: checkJti(flat[index], "jti"), exp: checkEpochSec(Number(flat[index + 1]), "exp") });
    }
    return tokens;
  });
}
