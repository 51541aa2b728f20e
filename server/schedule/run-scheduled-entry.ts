/**
 * What a `schedule.backup` or `schedule.retention` job does when its scheduler fires. It first
 * checks the entry against the stored schedule (the source of truth): a scheduler left on the
 * queue by a change that never reached Redis runs nothing, and the queue is put back in step.
 * Then it submits the backup as `schedule`, or applies retention. A backup already running is
 * the expected way for two entries to meet, so that run is skipped and says so in the job log;
 * anything else (a full target, an unknown server) fails the job where the Jobs page shows it.
 */
import { applyRetention } from "../backup/apply-retention.ts";
import { copySessions, type SessionCopyReport } from "../backup/copy-sessions.ts";
import { MailvaultError } from "../errors.ts";
import { verifyServerBackups } from "../backup/verify-session.ts";
import { reportSummary, reportVerify } from "../reports/send-report.ts";
import { BackupInProgressError, PruneRunningError, SessionLeasedError } from "../backup/errors.ts";
import { submitBackup } from "../backup/submit-backup.ts";
import { DrillRunningError, submitDrill } from "../drill/submit-drill.ts";
import { getServer } from "../directory/list-servers.ts";
import type { JobData } from "../jobs/definitions.ts";
import { restoreSchedulers, storedEntry } from "./manage-schedule.ts";
import { formatEntry, type ScheduleEntry } from "./schedule-entry.ts";

export type Log = (line: string) => unknown;

export type ScheduledOutcome =
  | { submitted: string; sessionId: number; jobId: string; mode: string }
  | { retention: { removed: string[]; kept: number; blobsPruned: number; bytesFreed: number } }
  | { copied: SessionCopyReport[] }
  | { verified: number; damaged: string[] }
  | { summary: string }
  | { drill: string }
  | { skipped: string };

export const SCHEDULE_REQUESTER = "schedule";

async function confirm(server: string, data: { entry: number }, expected: ScheduleEntry, log: Log): Promise<string | null> {
  const stored = await storedEntry(server, data.entry);
  const same = stored && stored.type === expected.type && stored.pattern === expected.pattern && stored.tz === expected.tz && stored.age === expected.age && stored.to === expected.to && stored.scope === expected.scope;
  if (same) return null;
  const why = `entry ${data.entry} (${formatEntry(expected)}) is no longer in ${server}'s stored schedule; nothing run, the queue is put back in step`;
  await log(why);
  await restoreSchedulers(server);
  return why;
}

export async function runScheduledBackup(serverName: string, data: JobData<"schedule.backup">, log: Log): Promise<ScheduledOutcome> {
  const entry: ScheduleEntry = { type: data.type, pattern: data.pattern, tz: data.tz };
  const stale = await confirm(serverName, data, entry, log);
  if (stale) return { skipped: stale };
  const server = await getServer(serverName);
  if (data.type === "incremental" && server.backupMode === "auto_grouped") {
    const why = `${server.name} is auto-grouped now: incremental entry ${data.entry} skipped; change the schedule (schedulebackup -D gives the auto-grouped defaults)`;
    await log(why);
    return { skipped: why };
  }
  if (data.type === "auto_grouped" && server.backupMode !== "auto_grouped") {
    const why = `${server.name} uses standard backups now: auto-grouped entry ${data.entry} skipped; change the schedule (schedulebackup -D gives the standard defaults)`;
    await log(why);
    return { skipped: why };
  }
  await log(`entry ${data.entry}: ${formatEntry(entry)}`);
  try {
    const submitted = await submitBackup({
      server: server.name,
      type: data.type === "incremental" ? "incremental" : "full",
      // f backs up every account; a leaves the choice to the auto-grouped rule.
      accounts: data.type === "full" ? "all" : undefined,
      requestedBy: SCHEDULE_REQUESTER,
    });
    await log(`submitted ${submitted.label} (${submitted.mode}) as job ${submitted.jobId}`);
    return { submitted: submitted.label, sessionId: submitted.sessionId, jobId: submitted.jobId, mode: submitted.mode };
  } catch (error) {
    if (!(error instanceof BackupInProgressError || error instanceof PruneRunningError)) throw error;
    await log(`skipped: ${error.message}`);
    return { skipped: error.message };
  }
}

export async function runScheduledRetention(serverName: string, data: JobData<"schedule.retention">, log: Log): Promise<ScheduledOutcome> {
  const entry: ScheduleEntry = { type: "retention", pattern: data.pattern, tz: data.tz, age: data.age };
  const stale = await confirm(serverName, data, entry, log);
  if (stale) return { skipped: stale };
  await log(`entry ${data.entry}: delete sessions older than ${data.age}`);
  try {
    const result = await applyRetention(serverName, data.age, { planOnly: false });
    for (const r of result.plan.remove) await log(`delete ${r.label} (${r.reason})`);
    await log(
      result.applied
        ? `deleted ${result.removed.length} session(s) from before ${result.plan.cutoff}; pruned ${result.blobsPruned} blob(s), ${(result.bytesFreed / 1048576).toFixed(1)} MiB freed`
        : `nothing to delete: every session is newer than ${result.plan.cutoff} or still needed`,
    );
    return { retention: { removed: result.removed, kept: result.plan.keep.length, blobsPruned: result.blobsPruned, bytesFreed: result.bytesFreed } };
  } catch (error) {
    if (!(error instanceof BackupInProgressError) && !(error instanceof SessionLeasedError)) throw error;
    await log(`skipped: ${error.message}; the next run tries again`);
    return { skipped: error.message };
  }
}

export async function runScheduledCopy(serverName: string, data: JobData<"schedule.copy">, log: Log): Promise<ScheduledOutcome> {
  const entry: ScheduleEntry = { type: "copy", pattern: data.pattern, tz: data.tz, to: data.to };
  const stale = await confirm(serverName, data, entry, log);
  if (stale) return { skipped: stale };
  await log(`entry ${data.entry}: copy every published session ${data.to} lacks`);
  try {
    const copied = await copySessions(serverName, { to: data.to, all: true, onSession: (r) => void log(`${r.label}: ${r.status}${r.status === "copied" ? ` (${r.packsSent} pack(s) sent)` : ""}`) });
    const failed = copied.filter((r) => r.status === "failed");
    await log(`${copied.filter((r) => r.status === "copied").length} session(s) copied, ${copied.filter((r) => r.status === "present").length} already there, ${failed.length} failed`);
    // A copy that does not verify at the destination fails the job, where the Jobs page shows it.
    if (failed.length) throw new Error(`${failed.length} session(s) did not verify on ${data.to}: ${failed.map((r) => r.label).join(", ")}`);
    return { copied };
  } catch (error) {
    // Another copy to the same target, or a target removed from the settings: skipped, said why.
    if (!(error instanceof MailvaultError) || !["copy_running", "target_not_found"].includes(error.code)) throw error;
    await log(`skipped: ${error.message}`);
    return { skipped: error.message };
  }
}

export async function runScheduledVerify(serverName: string, data: JobData<"schedule.verify">, log: Log): Promise<ScheduledOutcome> {
  const entry: ScheduleEntry = { type: "verify", pattern: data.pattern, tz: data.tz, scope: data.scope };
  const stale = await confirm(serverName, data, entry, log);
  if (stale) return { skipped: stale };
  await log(`entry ${data.entry}: verify ${data.scope === "all" ? "every published session and the repository" : `the newest ${data.scope} session(s)`}`);
  const reports = await verifyServerBackups(serverName, data.scope === "all" ? { all: true } : { newest: Number(data.scope) });
  const damaged = reports.filter((r) => !r.ok);
  for (const r of reports) await log(`${r.label}: ${r.ok ? "ok" : `DAMAGED, ${r.problems.length} problem(s): ${r.problems[0]?.path}: ${r.problems[0]?.message}`}`);
  await reportVerify(serverName, data.scope, reports);
  return { verified: reports.length, damaged: damaged.map((r) => r.label) };
}

export async function runScheduledSummary(serverName: string, data: JobData<"schedule.summary">, log: Log): Promise<ScheduledOutcome> {
  const entry: ScheduleEntry = { type: "summary", pattern: data.pattern, tz: data.tz };
  const stale = await confirm(serverName, data, entry, log);
  if (stale) return { skipped: stale };
  await reportSummary(serverName);
  await log(`entry ${data.entry}: summary of the last 24 hours queued for mail`);
  return { summary: serverName };
}

export async function runScheduledDrill(serverName: string, data: JobData<"schedule.drill">, log: Log): Promise<ScheduledOutcome> {
  const entry: ScheduleEntry = { type: "drill", pattern: data.pattern, tz: data.tz, scope: data.scope };
  const stale = await confirm(serverName, data, entry, log);
  if (stale) return { skipped: stale };
  try {
    const drill = await submitDrill({ server: serverName, accounts: Number(data.scope), at: "random", requestedBy: SCHEDULE_REQUESTER });
    await log(`entry ${data.entry}: restore drill of ${data.scope} account(s) submitted as ${drill.label} (job ${drill.jobId})`);
    return { drill: drill.label };
  } catch (error) {
    if (!(error instanceof DrillRunningError)) throw error;
    await log(`skipped: ${error.message}`);
    return { skipped: error.message };
  }
}
