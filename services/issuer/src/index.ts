/**
 * @trustmesh/issuer: the token issuer. `startIssuer(config)` runs one in-process (the demo, the
 * tests); `main.ts` runs it as a service configured from the environment.
 */
export { startIssuer, createIssuerLogger, REDACTED_LOG_PATHS, type RunningIssuer, type StartIssuerOptions } from "./start-issuer.js";
export { loadConfig, ConfigError, type IssuerConfig } from "./config.js";
export { ADMIN_SCOPE, ADMIN_SERVICE_ID, type AdminKeyFile } from "./bootstrap-admin.js";
export { JWKS_PATH, METADATA_PATH } from "./http/well-known-server.js";
