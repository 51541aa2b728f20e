/**
 * Integration-test helpers that run a backup or a restore on real workers and wait for its
 * outcome in the catalog, the way a user watching the console would.
 */
import { submitBackup } from "../backup/submit-backup.ts";
import { consolePool, prisma } from "../db/console-db.ts";
import { submitRestore, type RestoreInput, type SubmittedRestore } from "../restore/submit-restore.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(probe: () => Promise<T | null | undefined | false>, what: string, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Waits until no backup is queued or running (a restore queues one when it ends). */
export async function backupsSettled(): Promise<void> {
  await waitFor(async () => (await prisma().backupSession.count({ where: { status: { in: ["queued", "running"] } } })) === 0, "running backups to end", 120_000);
}

/**
 * Waits until no restore runs and no restore's follow-up backup is still to be queued, then
 * until no backup runs: a test that seals or moves redo must not race a follow-up backup.
 */
export async function restoresSettled(): Promise<void> {
  await waitFor(async () => {
    const { rows } = await consolePool().query<{ n: number }>(
      `SELECT count(*)::int AS n FROM restore_run
        WHERE status IN ('queued', 'running', 'failing') OR result->>'fullBackup' LIKE 'to be queued%' OR result->>'fullBackup' LIKE 'waiting for%'`,
    );
    return rows[0]!.n === 0;
  }, "restores and their follow-up backups to be queued", 120_000);
  await backupsSettled();
}

/** Runs a backup session to its end and returns its label; throws unless it completed. */
export async function runBackup(server: string, type: "full" | "incremental"): Promise<{ label: string; sessionId: number; jobId: string }> {
  await restoresSettled();
  const submitted = await submitBackup({ server, type, accounts: type === "full" ? "all" : undefined });
  const row = await waitFor(async () => {
    const s = await prisma().backupSession.findFirstOrThrow({ where: { label: submitted.label } });
    return !["queued", "running"].includes(s.status) && s;
  }, submitted.label);
  if (row.status !== "completed") throw new Error(`${row.label} ended ${row.status}: ${row.error ?? ""}`);
  return { label: row.label, sessionId: row.id, jobId: row.jobId ?? `backup-${row.id}` };
}

/** Runs a restore to its end; throws unless it completed. */
export async function runRestore(input: Omit<RestoreInput, "dryRun">): Promise<SubmittedRestore> {
  const submitted = await submitRestore({ requestedBy: "test", ...input, dryRun: false });
  if (submitted.dryRun) throw new Error("expected a restore run, got a plan");
  return waitForRestore(submitted);
}

/** Waits for a queued restore run (a restore, an undo, a drill's) to end; throws unless it completed. */
export async function waitForRestore(submitted: SubmittedRestore): Promise<SubmittedRestore> {
  const run = await waitFor(async () => {
    const r = await prisma().restoreRun.findUniqueOrThrow({ where: { id: submitted.runId } });
    return !["queued", "running", "failing"].includes(r.status) && r;
  }, submitted.label);
  if (run.status !== "completed") throw new Error(`${run.label} ended ${run.status}: ${run.error ?? ""}`);
  return submitted;
}
