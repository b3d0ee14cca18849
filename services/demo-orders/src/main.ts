/** demo-orders as a process: prints one JSON line when ready, stops gracefully on SIGTERM. */
import { loadOrdersConfig } from "./config.js";
import { startOrders } from "./start-orders.js";

const orders = await startOrders(loadOrdersConfig());
process.stdout.write(`${JSON.stringify({ service: "orders", msg: "ready", address: orders.address })}\n`);
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    void orders.close().then(() => process.exit(0));
  });
}
