import path from "node:path";
import { defineConfig } from "vitest/config";

const root = path.dirname(new URL(import.meta.url).pathname);

export default defineConfig({
  resolve: { alias: { "@": root } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["{app,components,server,workers,scripts,cli}/**/*.test.ts"],
          exclude: ["**/*.integration.test.ts", "**/node_modules/**"],
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["{app,server,workers,scripts,cli}/**/*.integration.test.ts"],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          // Each file has its own database and queue prefix; two at a time suits a 2-core machine.
          maxWorkers: 2,
        },
      },
    ],
  },
});
