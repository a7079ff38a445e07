import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: new URL("..", import.meta.url).pathname,
    include: ["test/**/*.test.ts"],
    // Integration tests share one PostgreSQL server and the Pulumi state dir; each
    // uses its own database and stack names, but two cores gain little from parallel
    // engine runs, and serial output is readable.
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 300_000,
    reporters: ["default"],
  },
});
