/**
 * Backups and restores timed the way a user sees them (submit to "completed" in the catalog), and
 * the wait a bench needs before it touches a server's folders again: the catalog says
 * "completed" while the finish job may still be running (trimming the redo archive, recording
 * its outcome), and a restore queues a follow-up full as it ends.
 */
import { submitBackup } from "../server/backup/submit-backup.ts";
import { consolePool, prisma } from "../server/db/console-db.ts";
import { serverQueue } from "../server/jobs/queues.ts";
import type { AccountRestoreResult } from "../server/restore/restore-account.ts";
import { submitRestore } from "../server/restore/submit-restore.ts";
import { secondsSince, until } from "./bench-env.ts";

/**
 * The bench process's resident memory, sampled every 50 ms while a job runs. The workers run in
 * this process, so its peak is what a worker needed (plus the bench's own data, a bound above).
 */
function sampleRss(): () => number {
  const start = process.memoryUsage();
  let peak = start;
  const timer = setInterval(() => {
    const now = process.memoryUsage();
    if (now.rss > peak.rss) peak = now;
  }, 50);
  return () => {
    clearInterval(timer);
    const mib = (n: number) => `${(n / 1048576).toFixed(0)} MiB`;
    if (process.env.BENCH_MEMORY) console.log(`memory: rss ${mib(start.rss)} at the start, peak ${mib(peak.rss)} (main thread heap ${mib(peak.heapUsed)}, buffers ${mib(peak.arrayBuffers)})`);
    return peak.rss / 1048576;
  };
}

export async function timedBackup(server: string, type: "full" | "incremental") {
  const started = performance.now();
  const rss = sampleRss();
  const { label } = await submitBackup({ server, type, accounts: type === "full" ? "all" : undefined, requestedBy: "bench" });
  // The status alone while it runs (plain queries: the bench shares the workers' main thread),
  // every 10 ms: a second full takes about 0.3 s, and polling every 50 ms added up to a sixth.
  await until(async () => {
    const { rows } = await consolePool().query<{ status: string }>("SELECT status FROM backup_session WHERE label = $1", [label]);
    return !["queued", "running"].includes(rows[0]!.status);
  }, 10);
  const session = await prisma().backupSession.findFirstOrThrow({ where: { label } });
  const peakRssMiB = rss();
  if (session.status !== "completed") throw new Error(`${label} ${session.status}: ${session.error}`);
  return { seconds: secondsSince(started), session, peakRssMiB };
}

export type RestoredAccount = Pick<AccountRestoreResult, "replayed" | "foldedRows" | "blobsCopied" | "timings">;

/**
 * Waits for a restore run to end, polling its status alone: the bench shares the workers' main
 * thread, and reading the whole run row (its plan of every account) through Prisma every 20 ms
 * cost a 250-mailbox rebuild about 0.2 s of it.
 */
export async function restoreRunEnded(runId: number): Promise<void> {
  await until(async () => {
    const { rows } = await consolePool().query<{ status: string }>("SELECT status FROM restore_run WHERE id = $1", [runId]);
    return !["queued", "running", "failing"].includes(rows[0]!.status);
  }, 20);
}

export async function timedRestore(input: Parameters<typeof submitRestore>[0]) {
  const started = performance.now();
  const rss = sampleRss();
  const run = await submitRestore(input);
  if (run.dryRun) throw new Error("expected a restore run, got a plan");
  await restoreRunEnded(run.runId);
  const row = await prisma().restoreRun.findUniqueOrThrow({ where: { id: run.runId } });
  const peakRssMiB = rss();
  if (row.status !== "completed") throw new Error(`${row.label} ${row.status}: ${row.error}`);
  return { seconds: secondsSince(started), result: row.result as unknown as { restored: RestoredAccount[] }, peakRssMiB };
}

/**
 * Waits until no restore runs or still has its follow-up full to queue, no backup is queued or
 * running, and the server's queue has no job left.
 */
export async function queueIdle(server: string): Promise<void> {
  await until(async () => {
    const { rows } = await consolePool().query<{ n: number }>(
      `SELECT (SELECT count(*) FROM restore_run
                WHERE status IN ('queued', 'running', 'failing') OR result->>'fullBackup' LIKE 'to be queued%' OR result->>'fullBackup' LIKE 'waiting for%')
            + (SELECT count(*) FROM backup_session WHERE status IN ('queued', 'running')) AS n`,
    );
    if (Number(rows[0]!.n) > 0) return false;
    const counts = await serverQueue(server).getJobCounts("active", "waiting", "delayed", "prioritized", "waiting-children");
    return Object.values(counts).every((n) => n === 0);
  }, 100);
}
