/**
 * The one registry of job kinds. Each definition names the job `<domain>.<verb>`, validates its
 * payload with zod, and sets its retry defaults and the rule for its job id (a deterministic id
 * makes a double submit a no-op). Handlers live with the worker (workers/processors.ts) and call
 * a server/ function; this file imports neither BullMQ workers nor handlers.
 */
import { z } from "zod";

export interface JobDefinition<Schema extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  schema: Schema;
  /** Attempts before the job is failed; 1 means no retry. */
  attempts: number;
  /** Wait between attempts, doubling each time. */
  backoffMs: number;
  /** A deterministic job id, so submitting the same work twice runs it once; undefined: random. */
  jobId?: (data: z.infer<Schema>) => string;
}

function defineJob<Schema extends z.ZodType>(definition: JobDefinition<Schema>): JobDefinition<Schema> {
  return definition;
}

export const serverPing = defineJob({
  name: "server.ping",
  description: "Round trip through a server's queue and worker; answers with the worker that ran it.",
  schema: z.object({ sentAt: z.iso.datetime(), note: z.string().max(200).optional() }),
  attempts: 1,
  backoffMs: 0,
});

export const redoArchive = defineJob({
  name: "redo.archive",
  description: "Seal the server's committed redo records into segment files once the log passes its size or age limit (or at once with force).",
  schema: z.object({ force: z.boolean().default(false) }),
  // A run cut off by a lost database connection is retried: the archiver finishes what the
  // crashed run left (archive-redo.ts, recover) before it seals anything new.
  attempts: 5,
  backoffMs: 2_000,
});

const sessionRef = z.object({ sessionId: z.number().int().positive() });

export const backupStart = defineJob({
  name: "backup.start",
  description: "Begin a backup session: seal and move redo, choose the accounts, fan out a flow of per-account jobs.",
  schema: sessionRef,
  attempts: 1,
  backoffMs: 0,
  jobId: (data) => `backup-${data.sessionId}`,
});

export const backupAccounts = defineJob({
  name: "backup.accounts",
  description: "Snapshot a batch of accounts into a session (a child of backup.finish).",
  schema: sessionRef.extend({ accounts: z.array(z.object({ accountId: z.uuid(), email: z.string(), reason: z.string() })) }),
  attempts: 1,
  backoffMs: 0,
});

export const backupFinish = defineJob({
  name: "backup.finish",
  description: "Complete a backup session once its accounts are done: manifest, publish, catalog.",
  schema: sessionRef,
  attempts: 1,
  backoffMs: 0,
});

export const backupVerify = defineJob({
  name: "backup.verify",
  description: "Re-read one published session, the newest N, or all: checksums, blobs, redo continuity; each result is kept in the catalog.",
  schema: z
    .object({ label: z.string().min(1).optional(), all: z.boolean().default(false), newest: z.number().int().min(1).max(1000).optional() })
    .refine((v) => [Boolean(v.label), v.all, v.newest !== undefined].filter(Boolean).length === 1, "verify one session (label), the newest N, or all of them"),
  attempts: 1,
  backoffMs: 0,
});

export const backupDelete = defineJob({
  name: "backup.delete",
  description: "Delete one session from the target and the catalog, then prune the blobs no session needs.",
  schema: z.object({ label: z.string().min(1) }),
  attempts: 1,
  backoffMs: 0,
});

export const backupCopy = defineJob({
  name: "backup.copy",
  description: "Copy published sessions to one of the server's copy targets: only the packs it lacks, then the files, then verify there.",
  schema: z
    .object({ to: z.string().min(1), label: z.string().min(1).optional(), all: z.boolean().default(false) })
    .refine((v) => Boolean(v.label) !== v.all, "copy one session (label) or all of them, not both"),
  attempts: 1,
  backoffMs: 0,
});

const runRef = z.object({ runId: z.number().int().positive() });

export const restoreStart = defineJob({
  name: "restore.start",
  description: "Begin a restore run: fan out one job per account under a restore.finish parent.",
  schema: runRef,
  attempts: 1,
  backoffMs: 0,
  jobId: (data) => `restore-${data.runId}`,
});

export const restoreAccountJob = defineJob({
  name: "restore.account",
  description: "Restore one account of a run, or a batch of its accounts in place, as its plan says (a child of restore.finish).",
  // The plan index of the first account, and how many consecutive accounts the job restores.
  schema: runRef.extend({ index: z.number().int().nonnegative(), count: z.number().int().positive().max(64).default(1) }),
  // Retried only when the database connection was lost (restoreRunAccounts rethrows those and
  // records every other failure in the run): an account, or a batch, is restored in one
  // mailstore transaction, so a retry starts it again from a clean state. 2 s, 4 s, 8 s: about a restart.
  attempts: 4,
  backoffMs: 2_000,
});

export const restoreFinish = defineJob({
  name: "restore.finish",
  description: "Complete a restore run: outcome, failures listed, a full backup of the restored accounts queued.",
  schema: runRef,
  attempts: 1,
  backoffMs: 0,
});

export const restoreBackup = defineJob({
  name: "restore.backup",
  description:
    "The full backup of a restore run's restored accounts: queued once no other backup of the server runs (the job waits, re-checking, while one does), never dropped.",
  schema: runRef.extend({ accounts: z.array(z.string().min(3)).min(1) }),
  attempts: 3,
  backoffMs: 5_000,
  jobId: (data) => `restore-${data.runId}-backup`,
});

export const drillRun = defineJob({
  name: "drill.run",
  description: "A restore drill: restore chosen accounts into scratch mailboxes at a point, compare with the expected state, keep the evidence, remove the scratch.",
  schema: z.object({ drillId: z.number().int().positive() }),
  attempts: 1,
  backoffMs: 0,
  jobId: (data) => `drill-${data.drillId}`,
});

export const explorePrepare = defineJob({
  name: "explore.prepare",
  description: "Make an account's backup readable at a session or a point in time: its rows (no bodies) restored into a hidden mailbox the console browses.",
  schema: z.object({ viewId: z.number().int().positive() }),
  attempts: 2,
  backoffMs: 2_000,
  jobId: (data) => `explore-${data.viewId}`,
});

export const restoreItems = defineJob({
  name: "restore.items",
  description: "Restore chosen messages, contacts or folders of a backup (or a copy) into an account, through the normal operations so each has its redo record.",
  schema: z.object({ requestId: z.string().min(1), input: z.record(z.string(), z.unknown()) }),
  attempts: 1,
  backoffMs: 0,
  jobId: (data) => `items-${data.requestId}`,
});

/** What every scheduled job carries: the stored entry it was made from, to check it still is. */
const scheduledEntry = z.object({
  /** 1-based position of the entry in the server's stored schedule (scheduler `schedule:<server>:<n>`). */
  entry: z.number().int().positive(),
  pattern: z.string().min(1),
  tz: z.string().min(1),
});

export const scheduleBackup = defineJob({
  name: "schedule.backup",
  description:
    "A scheduled backup (zmschedulebackup f, i or a), fired by a BullMQ job scheduler: submits the session as `schedule`; a backup already running means this run is skipped and says so in the job log.",
  schema: scheduledEntry.extend({ type: z.enum(["full", "incremental", "auto_grouped"]) }),
  attempts: 1,
  backoffMs: 0,
});

export const scheduleRetention = defineJob({
  name: "schedule.retention",
  description: "Scheduled retention (zmschedulebackup d <age>): deletes sessions older than the age, as `backup -del` does; skipped and logged while a backup runs.",
  schema: scheduledEntry.extend({ age: z.string().regex(/^[1-9]\d{0,3}[dwmy]$/, "age is a number with d, w, m or y") }),
  attempts: 1,
  backoffMs: 0,
});

export const scheduleCopy = defineJob({
  name: "schedule.copy",
  description: "A scheduled copy (c <target>): copies every published session the copy target lacks, as `copy --all` does; skipped and logged while another copy to it runs.",
  schema: scheduledEntry.extend({ to: z.string().min(1) }),
  attempts: 1,
  backoffMs: 0,
});

export const reportSend = defineJob({
  name: "report.send",
  description: "Send one report mail from the outbox (an ended session or restore run, a refused backup); retried with backoff while SMTP fails.",
  schema: z.object({ id: z.number().int().positive() }),
  // 5 s doubling: about 40 minutes of tries, for an SMTP server being restarted or a network blip.
  attempts: 10,
  backoffMs: 5_000,
  jobId: (data) => `report-${data.id}`,
});

export const scheduleVerify = defineJob({
  name: "schedule.verify",
  description: "A scheduled verify (v all|<N>): re-reads every published session and the repository, or the newest N; results kept in the catalog and mailed as a report.",
  schema: scheduledEntry.extend({ scope: z.string().regex(/^(all|[1-9]\d{0,2})$/) }),
  attempts: 1,
  backoffMs: 0,
});

export const scheduleDrill = defineJob({
  name: "schedule.drill",
  description: "A scheduled restore drill (r [N]): N accounts (default 3) at random points; a failed drill is a red flag and a report mail.",
  schema: scheduledEntry.extend({ scope: z.string().regex(/^[1-9]\d?$/) }),
  attempts: 1,
  backoffMs: 0,
});

export const scheduleSummary = defineJob({
  name: "schedule.summary",
  description: "A scheduled summary mail (s): the server's last 24 hours of sessions and restore runs, its red flags and newest recoverable point.",
  schema: scheduledEntry,
  attempts: 1,
  backoffMs: 0,
});

/** The BullMQ options that carry a definition's retry defaults, for every way a job is added. */
export function retryOptions(definition: JobDefinition): { attempts: number; backoff?: { type: "exponential"; delay: number } } {
  return {
    attempts: definition.attempts,
    backoff: definition.backoffMs > 0 ? { type: "exponential", delay: definition.backoffMs } : undefined,
  };
}

export const jobDefinitions = {
  "server.ping": serverPing,
  "redo.archive": redoArchive,
  "backup.start": backupStart,
  "backup.accounts": backupAccounts,
  "backup.finish": backupFinish,
  "backup.verify": backupVerify,
  "backup.delete": backupDelete,
  "backup.copy": backupCopy,
  "restore.start": restoreStart,
  "restore.account": restoreAccountJob,
  "restore.finish": restoreFinish,
  "restore.backup": restoreBackup,
  "schedule.backup": scheduleBackup,
  "schedule.retention": scheduleRetention,
  "schedule.copy": scheduleCopy,
  "report.send": reportSend,
  "schedule.verify": scheduleVerify,
  "schedule.summary": scheduleSummary,
  "schedule.drill": scheduleDrill,
  "drill.run": drillRun,
  "explore.prepare": explorePrepare,
  "restore.items": restoreItems,
} as const satisfies Record<string, JobDefinition>;

export type JobName = keyof typeof jobDefinitions & string;
export type JobData<N extends JobName> = z.infer<(typeof jobDefinitions)[N]["schema"]>;
export type JobInput<N extends JobName> = z.input<(typeof jobDefinitions)[N]["schema"]>;

export function isJobName(name: string): name is JobName {
  return Object.hasOwn(jobDefinitions, name);
}
