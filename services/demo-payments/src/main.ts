/** demo-payments as a process: prints one JSON line when ready, stops gracefully on SIGTERM. */
import { loadPaymentsConfig } from "./config.js";
import { startPayments } from "./start-payments.js";

const payments = await startPayments(loadPaymentsConfig());
process.stdout.write(`${JSON.stringify({ service: "payments", msg: "ready", address: payments.address })}\n`);
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    void payments.close().then(() => process.exit(0));
  });
}
