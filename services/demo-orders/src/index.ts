/** The demo mesh's orders service, to run in-process (tests) or as `src/main.ts`. */
export { startOrders, type RunningOrders } from "./start-orders.js";
export { loadOrdersConfig, type OrdersConfig } from "./config.js";
