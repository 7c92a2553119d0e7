import { defineConfig } from "vitest/config";

// One real hub (with its private PostgreSQL) for every suite, started by test/support/globalSetup.ts.
// Suites isolate themselves by using projects of their own.
export default defineConfig({
  test: {
    globalSetup: ["test/support/globalSetup.ts"],
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    fileParallelism: true,
    maxWorkers: 2,
  },
});
