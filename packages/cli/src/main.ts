#!/usr/bin/env node
/**
 * The trustctl executable. It reads TRUSTMESH_ISSUER_ADDRESS, TRUSTMESH_ADMIN_KEY_FILE and
 * TRUSTMESH_NATS_URL (README.md) and sets the exit code rather than calling process.exit, so
 * output is never cut off.
 */
import { runTrustctl } from "./run.js";

process.exitCode = await runTrustctl(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  stdin: process.stdin,
});
