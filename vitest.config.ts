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
          // Some start threads or write files: on a busy 2-core machine one took 5 s, the
          // default limit. The limit is there to catch a hang.
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["{app,server,workers,scripts,cli}/**/*.integration.test.ts"],
          // Real databases, workers and CLI processes on a shared 2-core machine: a test waits on
          // events, and these limits only catch a hang, never a slow but healthy run.
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // Each file has its own database and queue prefix; two at a time suits a 2-core machine.
          maxWorkers: 2,
        },
      },
    ],
  },
});
