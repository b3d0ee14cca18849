/** The demo mesh's payments service, to run in-process (tests) or as `src/main.ts`. */
export { startPayments, type RunningPayments } from "./start-payments.js";
export { loadPaymentsConfig, type PaymentsConfig } from "./config.js";
