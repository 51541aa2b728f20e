import type { Command } from "commander";
import { checkHealth } from "../../server/health/check-health.ts";
import { printJson } from "../output.ts";

export function registerHealth(program: Command): void {
  program
    .command("health")
    .description("check PostgreSQL, Redis and each server's workers; exits 3 when something is down")
    .option("--json", "print JSON")
    .action(async (opts: { json?: boolean }) => {
      const report = await checkHealth();
      if (opts.json) printJson(report);
      else {
        const mark = (ok: boolean) => (ok ? "ok  " : "DOWN");
        console.log(`${mark(report.postgres.ok)}  postgres  ${report.postgres.detail}`);
        console.log(`${mark(report.redis.ok)}  redis     ${report.redis.detail}`);
        for (const [server, w] of Object.entries(report.workers)) console.log(`${mark(w.ok)}  ${server.padEnd(8)}  ${w.detail}`);
      }
      if (report.status !== "ok") process.exitCode = 3;
    });
}
