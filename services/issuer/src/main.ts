/**
 * `node services/issuer/src/main.ts`: the issuer as a process. Configuration errors end it with
 * a one-line message; SIGTERM and SIGINT shut it down gracefully (in-flight calls finish).
 */
import { ConfigError, loadConfig, type IssuerConfig } from "./config.js";
import { createIssuerLogger, startIssuer } from "./start-issuer.js";

let config: IssuerConfig;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`trustmesh-issuer: invalid configuration: ${error.message}\n`);
  process.exit(2);
}

const log = createIssuerLogger(config.logLevel);
const issuer = await startIssuer({ config, logger: log }).catch((error: unknown) => {
  log.fatal({ error: error instanceof Error ? `${error.name}: ${error.message}` : "unknown" }, "issuer failed to start");
  process.exit(1);
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    log.info({ signal }, "shutting down");
    void issuer.close().then(() => process.exit(0));
  });
}
