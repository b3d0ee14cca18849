/**
 * The embedded store: everything in this process, lost on restart, right for one issuer and for
 * tests. Each operation runs to completion without awaiting, which is what makes it atomic.
 * Expiry follows the injected clock and mirrors the Redis store's key TTLs.
 */
import { StoreError } from "./errors.js";
import { MAX_REFRESH_TOKEN_LIFETIME_SEC, RETENTION_SLACK_SEC } from "./limits.js";
import { changedServiceDocument, decodeService, encodeService, newServiceDocument } from "./service-identity.js";
import type {
  AccessTokenRef,
  IssuerStore,
  Keyring,
  NewServiceIdentity,
  RefreshTokenRecord,
  RotateRefreshTokenInput,
  RotateRefreshTokenResult,
  ServiceIdentity,
  ServiceIdentityChanges,
  StoredSigningKey,
} from "./types.js";
import {
  checkAccessTokenRef,
  checkClock,
  checkEpochSec,
  checkFamilyId,
  checkJti,
  checkRevision,
  checkRotateRequest,
  checkSaveRequest,
  checkServiceId,
  checkSigningKeys,
  isPlainObject,
  successorRecord,
} from "./validate.js";

export interface MemoryStoreOptions {
  /** Milliseconds since the epoch; injectable so tests can freeze time. */
  readonly now?: () => number;
}

export interface MemoryIssuerStore extends IssuerStore {
  readonly kind: "memory";
}

/** Sweeping everything at most this often keeps a busy store bounded without a timer to clean up. */
const SWEEP_INTERVAL_SEC = 60;

interface RefreshEntry {
  readonly record: RefreshTokenRecord;
  spentAtSec: number | undefined;
  readonly retainUntilSec: number;
}

interface FamilyEntry {
  retainUntilSec: number;
  revokedAtSec: number | undefined;
}

export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryIssuerStore {
  if (!isPlainObject(options)) {
    throw new StoreError("ERR_STORE_OPTIONS", "options: must be an object", { field: "options" });
  }
  const now = checkClock(options.now);
  const services = new Map<string, string>();
  const jtis = new Map<string, number>();
  const refreshTokens = new Map<string, RefreshEntry>();
  const families = new Map<string, FamilyEntry>();
  const accessTokens = new Map<string, Map<string, number>>();
  let keyring: { version: number; json: string } = { version: 0, json: "[]" };
  let closed = false;
  let nextSweepSec = 0;

  /**
   * Every operation runs through here: refused after close, expired entries swept now and then,
   * and run to completion before anything else can, which is what makes it atomic.
   */
  function atomically<T>(operation: (nowSec: number) => T): Promise<T> {
    // The executor runs synchronously and turns a throw into a rejection.
    return new Promise<T>((resolve) => {
      if (closed) throw new StoreError("ERR_STORE_CLOSED", "the memory issuer store is closed");
      const nowSec = Math.floor(now() / 1000);
      if (nowSec >= nextSweepSec) sweep(nowSec);
      resolve(operation(nowSec));
    });
  }

  function sweep(nowSec: number): void {
    nextSweepSec = nowSec + SWEEP_INTERVAL_SEC;
    for (const [key, until] of jtis) if (until <= nowSec) jtis.delete(key);
    for (const [key, entry] of refreshTokens) if (entry.retainUntilSec <= nowSec) refreshTokens.delete(key);
    for (const [key, entry] of families) if (entry.retainUntilSec <= nowSec) families.delete(key);
    for (const familyId of accessTokens.keys()) liveAccessTokens(familyId, nowSec);
  }

  function family(familyId: string, nowSec: number): FamilyEntry | undefined {
    const entry = families.get(familyId);
    if (entry !== undefined && entry.retainUntilSec <= nowSec) {
      families.delete(familyId);
      return undefined;
    }
    return entry;
  }

  function refreshEntry(familyId: string, hash: string, nowSec: number): RefreshEntry | undefined {
    const key = `${familyId}/${hash}`;
    const entry = refreshTokens.get(key);
    if (entry !== undefined && entry.retainUntilSec <= nowSec) {
      refreshTokens.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Prunes, then lists: a minted token is kept until its `exp` plus the slack. */
  function liveAccessTokens(familyId: string, nowSec: number): AccessTokenRef[] {
    const tokens = accessTokens.get(familyId);
    if (tokens === undefined) return [];
    for (const [jti, exp] of tokens) if (exp + RETENTION_SLACK_SEC <= nowSec) tokens.delete(jti);
    if (tokens.size === 0) accessTokens.delete(familyId);
    return [...tokens].map(([jti, exp]) => ({ jti, exp })).sort((a, b) => a.exp - b.exp || compare(a.jti, b.jti));
  }

  function keepFamily(familyId: string, untilSec: number, nowSec: number): FamilyEntry {
    const entry = family(familyId, nowSec) ?? { retainUntilSec: untilSec, revokedAtSec: undefined };
    entry.retainUntilSec = Math.max(entry.retainUntilSec, untilSec);
    families.set(familyId, entry);
    return entry;
  }

  function storeToken(hash: string, record: RefreshTokenRecord, accessToken: AccessTokenRef | undefined, nowSec: number): void {
    const retainUntilSec = record.expiresAtSec + RETENTION_SLACK_SEC;
    refreshTokens.set(`${record.familyId}/${hash}`, { record, spentAtSec: undefined, retainUntilSec });
    keepFamily(record.familyId, retainUntilSec, nowSec);
    if (accessToken !== undefined) addAccessToken(record.familyId, accessToken);
  }

  function addAccessToken(familyId: string, token: AccessTokenRef): void {
    const tokens = accessTokens.get(familyId) ?? new Map<string, number>();
    tokens.set(token.jti, token.exp);
    accessTokens.set(familyId, tokens);
  }

  function revoke(familyId: string, nowSec: number): AccessTokenRef[] {
    const entry = keepFamily(familyId, nowSec + MAX_REFRESH_TOKEN_LIFETIME_SEC + RETENTION_SLACK_SEC, nowSec);
    entry.revokedAtSec ??= nowSec;
    return liveAccessTokens(familyId, nowSec);
  }

  function mutateService(
    id: string,
    expectedRevision: number | undefined,
    mutate: (current: ServiceIdentity, nowMs: number) => ServiceIdentity,
  ): ServiceIdentity {
    const json = services.get(id);
    if (json === undefined) throw new StoreError("ERR_SERVICE_NOT_FOUND", `no service ${id}`);
    const current = decodeService(json);
    if (expectedRevision !== undefined && current.revision !== expectedRevision) {
      throw new StoreError("ERR_STALE_REVISION", `service ${id} is at revision ${current.revision}, not ${expectedRevision}`);
    }
    const next = mutate(current, now());
    if (next !== current) services.set(id, encodeService(next));
    return next;
  }

  return {
    kind: "memory",

    ready: () => atomically(() => undefined),

    registerService: (identity: NewServiceIdentity) =>
      atomically(() => {
        const service = newServiceDocument(identity, now());
        if (services.has(service.id)) {
          throw new StoreError("ERR_SERVICE_EXISTS", `service ${service.id} is already registered`);
        }
        services.set(service.id, encodeService(service));
        return service;
      }),

    getService: (id: string) =>
      atomically(() => {
        const json = services.get(checkServiceId(id, "id"));
        return json === undefined ? undefined : decodeService(json);
      }),

    listServices: () =>
      atomically(() => [...services.keys()].sort(compare).map((id) => decodeService(services.get(id) ?? ""))),

    updateService: (id: string, expectedRevision: number, changes: ServiceIdentityChanges) =>
      atomically(() => {
        checkServiceId(id, "id");
        const revision = checkRevision(expectedRevision, "expectedRevision");
        return mutateService(id, revision, (current, nowMs) => changedServiceDocument(current, changes, nowMs));
      }),

    disableService: (id: string) =>
      atomically(() => {
        checkServiceId(id, "id");
        return mutateService(id, undefined, (current, nowMs) =>
          current.status === "disabled" ? current : changedServiceDocument(current, { status: "disabled" }, nowMs),
        );
      }),

    consumeAssertionJti: (clientId: string, jti: string, expiresAtSec: number) =>
      atomically((nowSec) => {
        const key = `${checkServiceId(clientId, "clientId")}\n${checkJti(jti, "jti")}`;
        const retainUntilSec = checkEpochSec(expiresAtSec, "expiresAtSec") + RETENTION_SLACK_SEC;
        const seenUntil = jtis.get(key);
        if (seenUntil !== undefined && seenUntil > nowSec) return false;
        jtis.set(key, Math.max(retainUntilSec, nowSec + 1));
        return true;
      }),

    saveRefreshToken: (hash: string, record: RefreshTokenRecord, accessToken?: AccessTokenRef) =>
      atomically((nowSec) => {
        const request = checkSaveRequest(hash, record, accessToken, nowSec);
        const { familyId } = request.record;
        if (family(familyId, nowSec)?.revokedAtSec !== undefined) {
          throw new StoreError("ERR_FAMILY_REVOKED", `refresh family ${familyId} is revoked`);
        }
        if (refreshEntry(familyId, request.hash, nowSec) !== undefined) {
          throw new StoreError("ERR_REFRESH_TOKEN_EXISTS", `refresh family ${familyId} already has this token`);
        }
        storeToken(request.hash, request.record, request.accessToken, nowSec);
      }),

    rotateRefreshToken: (input: RotateRefreshTokenInput) =>
      atomically((nowSec): RotateRefreshTokenResult => {
        const request = checkRotateRequest(input, nowSec);
        const { familyId } = request;
        if (family(familyId, nowSec)?.revokedAtSec !== undefined) return { outcome: "family-revoked" };
        const old = refreshEntry(familyId, request.oldHash, nowSec);
        if (old === undefined) return { outcome: "unknown" };
        // Spent first: a spent token has leaked whoever presents it and however late.
        if (old.spentAtSec !== undefined) return { outcome: "reused", revokedAccessTokens: revoke(familyId, nowSec) };
        if (old.record.clientId !== request.clientId) return { outcome: "client-mismatch" };
        if (old.record.expiresAtSec <= nowSec) return { outcome: "expired" };
        if (refreshEntry(familyId, request.newHash, nowSec) !== undefined) {
          throw new StoreError("ERR_REFRESH_TOKEN_EXISTS", `refresh family ${familyId} already has the new token`);
        }
        old.spentAtSec = nowSec;
        const current = successorRecord(old.record, request.expiresAtSec, nowSec);
        storeToken(request.newHash, current, request.accessToken, nowSec);
        return { outcome: "rotated", previous: copy(old.record), current: copy(current) };
      }),

    recordAccessToken: (familyId: string, jti: string, expSec: number) =>
      atomically((nowSec) => {
        const token = checkAccessTokenRef({ jti, exp: expSec }, "accessToken");
        if (family(checkFamilyId(familyId), nowSec)?.revokedAtSec !== undefined) {
          throw new StoreError("ERR_FAMILY_REVOKED", `refresh family ${familyId} is revoked`);
        }
        addAccessToken(familyId, token);
        liveAccessTokens(familyId, nowSec);
      }),

    revokeFamily: (familyId: string) => atomically((nowSec) => revoke(checkFamilyId(familyId), nowSec)),

    isFamilyRevoked: (familyId: string) =>
      atomically((nowSec) => family(checkFamilyId(familyId), nowSec)?.revokedAtSec !== undefined),

    getKeyring: () =>
      atomically((): Keyring => ({ version: keyring.version, keys: JSON.parse(keyring.json) as StoredSigningKey[] })),

    compareAndSetKeyring: (expectedVersion: number, keys: readonly StoredSigningKey[]) =>
      atomically(() => {
        const version = checkRevision(expectedVersion, "expectedVersion");
        const json = JSON.stringify(checkSigningKeys(keys));
        if (keyring.version !== version) return false;
        keyring = { version: version + 1, json };
        return true;
      }),

    close() {
      closed = true;
      return Promise.resolve();
    },
  };
}

function copy(record: RefreshTokenRecord): RefreshTokenRecord {
  return { ...record, scopes: [...record.scopes] };
}

/** Code-unit order, the same as Redis sorts byte strings for ASCII ids. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
