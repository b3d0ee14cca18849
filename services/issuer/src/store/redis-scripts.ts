/**
 * The Lua scripts behind every Redis write that must be atomic. Each script touches only keys of
 * one hash slot (one refresh family's `{familyId}` tag, or one single key), so the layout works
 * unchanged on Redis Cluster. TTLs arrive precomputed from the store's clock; scripts never
 * read the server's clock, so a frozen test clock and the server agree on every decision.
 */
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

export interface LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

function script(name: string, body: string): LuaScript {
  const source = `${HELPERS}\n${body}`;
  return { name, source, sha: createHash("sha1").update(source).digest("hex") };
}

/**
 * TTLs only ever grow: a family lives as long as its longest-lived token. Access tokens are kept
 * while exp > prune_to (= now - slack), the same rule the memory store applies.
 */
const HELPERS = `
local function extend(key, ttl)
  ttl = tonumber(ttl)
  if redis.call('TTL', key) < ttl then redis.call('EXPIRE', key, ttl) end
end
local function record_access(key, jti, exp, ttl, prune_to)
  if jti == '' then return end
  redis.call('ZADD', key, exp, jti)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', prune_to)
  extend(key, ttl)
end
local function revoke(family, access, now, revoke_ttl, prune_to)
  redis.call('HSETNX', family, 'r', now)
  extend(family, revoke_ttl)
  return redis.call('ZRANGEBYSCORE', access, '(' .. prune_to, '+inf', 'WITHSCORES')
end
`;

/**
 * KEYS: token, family, access tokens.
 * ARGV: clientId, audience, scopes (JSON), issuedAt, expiresAt, token TTL, jti ('' for none),
 *       access exp, access TTL, prune_to.
 */
export const SAVE_REFRESH_TOKEN = script(
  "save-refresh-token",
  `
if redis.call('HEXISTS', KEYS[2], 'r') == 1 then return 'family-revoked' end
if redis.call('EXISTS', KEYS[1]) == 1 then return 'exists' end
redis.call('HSET', KEYS[1], 'c', ARGV[1], 'a', ARGV[2], 'sc', ARGV[3], 'i', ARGV[4], 'e', ARGV[5])
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('HSET', KEYS[2], 'c', ARGV[1])
extend(KEYS[2], ARGV[6])
record_access(KEYS[3], ARGV[7], ARGV[8], ARGV[9], ARGV[10])
return 'saved'
`,
);

/**
 * KEYS: old token, new token, family, access tokens.
 * ARGV: clientId, now, new expiresAt, new token TTL, jti ('' for none), access exp, access TTL,
 *       prune_to, revoked-family TTL.
 * The spent old token keeps its hash and TTL with an `s` field: that marker is what tells a
 * replay (revoke everything) from a token that never existed. It is checked first: a spent
 * token has leaked whoever presents it and however late, and its successors are still live.
 */
export const ROTATE_REFRESH_TOKEN = script(
  "rotate-refresh-token",
  `
if redis.call('HEXISTS', KEYS[3], 'r') == 1 then return {'family-revoked'} end
local old = redis.call('HMGET', KEYS[1], 'c', 'a', 'sc', 'i', 'e', 's')
if not old[1] then return {'unknown'} end
if old[6] then
  local live = revoke(KEYS[3], KEYS[4], ARGV[2], ARGV[9], ARGV[8])
  table.insert(live, 1, 'reused')
  return live
end
if old[1] ~= ARGV[1] then return {'client-mismatch'} end
local expires_at = tonumber(old[5])
if not expires_at or not old[2] or not old[3] or not old[4] then return {'corrupt'} end
if expires_at <= tonumber(ARGV[2]) then return {'expired'} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {'exists'} end
redis.call('HSET', KEYS[1], 's', ARGV[2])
redis.call('HSET', KEYS[2], 'c', old[1], 'a', old[2], 'sc', old[3], 'i', ARGV[2], 'e', ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('HSET', KEYS[3], 'c', old[1])
extend(KEYS[3], ARGV[4])
record_access(KEYS[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8])
return {'rotated', old[2], old[3], old[4], old[5]}
`,
);

/** KEYS: family, access tokens. ARGV: jti, exp, access TTL, prune_to. */
export const RECORD_ACCESS_TOKEN = script(
  "record-access-token",
  `
if redis.call('HEXISTS', KEYS[1], 'r') == 1 then return 0 end
record_access(KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
return 1
`,
);

/** KEYS: family, access tokens. ARGV: now, revoked-family TTL, prune_to. */
export const REVOKE_FAMILY = script(
  "revoke-family",
  `
return revoke(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3])
`,
);

/**
 * KEYS: services hash. ARGV: id, the JSON read before, the JSON to write. Comparing the whole
 * document (which carries its revision) makes the read-modify-write a compare-and-set.
 */
export const REPLACE_SERVICE = script(
  "replace-service",
  `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then return 'not-found' end
if current ~= ARGV[2] then return 'stale' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 'replaced'
`,
);

/** KEYS: keyring hash. ARGV: expected version, keys JSON. */
export const SET_KEYRING = script(
  "set-keyring",
  `
local version = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if version ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', tostring(version + 1), 'k', ARGV[2])
return 1
`,
);

/** EVALSHA, falling back to EVAL once when the server has not cached the script (restart, failover). */
export async function runScript(
  client: Redis,
  lua: LuaScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  try {
    return await client.evalsha(lua.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
    return client.eval(lua.source, keys.length, ...keys, ...args);
  }
}
