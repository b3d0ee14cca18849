/**
 * @trustmesh/testing: real nats-server and redis-server processes on free
 * loopback ports, each with its own temp dir, for tests that must not depend
 * on a server someone else started. vitest helpers live in "./vitest".
 */
export { findBinary, DEFAULT_FALLBACK_DIRS } from "./find-binary.js";
export type { FindBinaryOptions, ServerBinary } from "./find-binary.js";
export { HarnessError } from "./harness-error.js";
export type { HarnessErrorCode, HarnessErrorOptions } from "./harness-error.js";
export { DEFAULT_START_TIMEOUT_MS, DEFAULT_STOP_GRACE_MS } from "./server-options.js";
export type { ServerOptions } from "./server-options.js";
export { startNats } from "./start-nats.js";
export type { NatsServer, StartNatsOptions } from "./start-nats.js";
export { startRedis } from "./start-redis.js";
export type { RedisServer, StartRedisOptions } from "./start-redis.js";
export { generateTestKey, jwksOf, type TestAlgorithm, type TestSigningKey } from "./keys.js";
export {
  mintClientAssertion,
  mintTestToken,
  newJti,
  profileClaims,
  profileHeader,
  signRawToken,
  withChanges,
  TEST_AUDIENCE,
  TEST_ISSUER,
  TEST_NOW_SEC,
  TEST_SUBJECT,
  type TestAssertionOptions,
  type TestTokenOptions,
} from "./tokens.js";
