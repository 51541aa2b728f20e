/**
 * `npm test [-- unit|integration|e2e ...]`: every test tier (or the named ones) against real
 * PostgreSQL, Redis and Chromium. Starts private services when none answer (and stops them
 * after), runs each tier even when an earlier one failed, and exits non-zero if any failed.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { config } from "../server/config.ts";
import { ensureServices, ServiceSetupError } from "./lib/services.ts";

const TIERS = {
  unit: ["node_modules/vitest/vitest.mjs", "run", "--project", "unit"],
  integration: ["node_modules/vitest/vitest.mjs", "run", "--project", "integration"],
  e2e: ["node_modules/@playwright/test/cli.js", "test"],
} as const;
type Tier = keyof typeof TIERS;

const asked = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const unknown = asked.filter((a) => !(a in TIERS));
if (unknown.length) {
  console.error(`unknown test tier ${unknown.join(", ")}: choose from ${Object.keys(TIERS).join(", ")}`);
  process.exit(2);
}
const tiers = (asked.length ? asked : Object.keys(TIERS)) as Tier[];
const log = (line: string) => console.log(`[test] ${line}`);

if (tiers.includes("e2e")) {
  const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  if (!existsSync(chromium)) {
    console.error(`[test] Chromium is not installed at ${chromium}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
    process.exit(2);
  }
}

const { DATABASE_URL, REDIS_URL, MAILVAULT_DATA_DIR } = config();
let services;
try {
  services = await ensureServices({ databaseUrl: DATABASE_URL, redisUrl: REDIS_URL, dataDir: MAILVAULT_DATA_DIR, log });
} catch (error) {
  console.error(`[test] ${error instanceof ServiceSetupError ? error.message : (error as Error).stack}`);
  process.exit(2);
}

const results: [Tier, boolean, number][] = [];
let interrupted = false;
process.on("SIGINT", () => (interrupted = true));
for (const tier of tiers) {
  if (interrupted) break;
  log(`${tier} tests`);
  const started = performance.now();
  const run = spawnSync(process.execPath, [...TIERS[tier]], {
    stdio: "inherit",
    env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? "warn", NEXT_TELEMETRY_DISABLED: "1" },
  });
  results.push([tier, run.status === 0, (performance.now() - started) / 1000]);
}
await services.stop();

console.log("");
for (const [tier, ok, seconds] of results) log(`${ok ? "passed" : "FAILED"}  ${tier} (${seconds.toFixed(0)} s)`);
const failed = interrupted || results.some(([, ok]) => !ok);
process.exit(failed ? 1 : 0);
