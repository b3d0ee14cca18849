import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { conditions: ["trustmesh-source"] },
  ssr: { resolve: { conditions: ["trustmesh-source"], externalConditions: ["trustmesh-source"] } },
  test: {
    include: ["packages/*/src/**/*.test.ts", "services/*/src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: "forks",
  },
});
