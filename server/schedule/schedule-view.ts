/**
 * A server's schedule as the console and `schedulebackup -q` show it: each entry with what it
 * does in plain words, its next runs (in its zone and in UTC), whether the queue holds its
 * scheduler as stored, the warnings, and the redo-archive cadence the worker keeps by itself.
 * Pure: the stored schedule, the queue's schedulers and the clock come in as arguments.
 */
import type { JobSchedulerJson } from "bullmq";
import type { ServerSettings } from "../directory/server-settings.ts";
import { nextRuns, type NextRun } from "./cron.ts";
import { describeCron } from "./describe-cron.ts";
import { checkSchedule, ENTRY_CODES, formatEntry, type BackupMode, type ScheduleEntry } from "./schedule-entry.ts";
import { scheduleWarnings } from "./schedule-warnings.ts";
import { redoArchiveSchedulerId, scheduledJob, schedulerId } from "./sync-schedulers.ts";

export const NEXT_RUNS = 3;

export interface EntryView extends ScheduleEntry {
  /** 1-based position; the scheduler is `schedule:<server>:<n>`. */
  n: number;
  code: string;
  /** zmschedulebackup's spelling: `d 1m "0 0 * * *"`. */
  text: string;
  /** What the entry does: "full backup of every account". */
  action: string;
  /** When, in words (cronstrue): "At 01:00, only on Saturday (Europe/Berlin)". */
  when: string;
  nextRuns: NextRun[];
  schedulerId: string;
  /** The queue holds this scheduler as stored; null when the queue could not be read. */
  onQueue: boolean | null;
}

export interface RedoArchiveCadence {
  schedulerId: string;
  /** How often the worker checks whether the redo log is due for sealing. */
  everyMs: number;
  maxAgeSeconds: number;
  maxBytes: number;
  description: string;
  onQueue: boolean | null;
  nextAt: string | null;
}

export interface ScheduleView {
  server: string;
  backupMode: BackupMode;
  entries: EntryView[];
  updatedAt: string | null;
  updatedBy: string | null;
  warnings: string[];
  redoArchive: RedoArchiveCadence;
  /** Whether the server's queue could be read, and schedulers on it the stored schedule lacks. */
  queue: { ok: boolean; error: string | null; stray: string[] };
}

export interface ViewInput {
  server: string;
  backupMode: BackupMode;
  settings: ServerSettings;
  stored: { entries: ScheduleEntry[]; updatedAt: Date; updatedBy: string } | null;
  /** The queue's schedulers, or the error reading them. */
  schedulers: JobSchedulerJson[] | { error: string };
  /** How often the worker checks the redo log (archiveCheckIntervalMs). */
  archiveEveryMs: number;
  now?: Date;
}

function action(entry: ScheduleEntry, settings: ServerSettings): string {
  switch (entry.type) {
    case "full":
      return "full backup of every account";
    case "incremental":
      return "incremental backup: the redo since the last session, and a full of any account that has none";
    case "auto_grouped":
      return `auto-grouped backup: about 1/${settings.autoGrouped.groups} of the accounts (oldest backups first) in full, the redo for the rest`;
    case "retention":
      return `delete sessions older than ${entry.age} (never an account's last full it needs)`;
    case "summary":
      return "mail a summary of the last 24 hours: sessions, restore runs, red flags, the newest recoverable point";
    case "verify":
      return entry.scope === "all" ? "verify every published session and every pack of the repository; results kept and mailed" : `verify the newest ${entry.scope} session(s); results kept and mailed`;
    case "drill":
      return `restore drill: ${entry.scope} account(s) at random points restored into scratch mailboxes and compared; evidence kept, a failure flagged and mailed`;
    case "copy":
      return `copy every published session that copy target ${entry.to} lacks (only its missing packs), verified there`;
  }
}

function seconds(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 1000)} s`;
}

/** The scheduler fires what entry n says, when it says. */
function matches(scheduler: JobSchedulerJson | undefined, entry: ScheduleEntry, n: number): boolean {
  if (!scheduler || scheduler.pattern !== entry.pattern || (scheduler.tz ?? "UTC") !== entry.tz) return false;
  const job = scheduledJob(entry, n);
  const data = scheduler.template?.data as Record<string, unknown> | undefined;
  return scheduler.name === job.name && (!data || JSON.stringify(data) === JSON.stringify(job.data));
}

export function buildScheduleView(input: ViewInput): ScheduleView {
  const now = input.now ?? new Date();
  const schedulers = Array.isArray(input.schedulers) ? input.schedulers : null;
  const find = (id: string) => schedulers?.find((s) => (s.id ?? s.key) === id);
  const entries = (input.stored?.entries ?? []).map((entry, i): EntryView => {
    const id = schedulerId(input.server, i + 1);
    const onQueue = schedulers ? matches(find(id), entry, i + 1) : null;
    return {
      ...entry,
      n: i + 1,
      code: ENTRY_CODES[entry.type],
      text: formatEntry(entry),
      action: action(entry, input.settings),
      when: describeCron(entry.pattern, entry.tz),
      nextRuns: nextRuns(entry.pattern, entry.tz, NEXT_RUNS, now),
      schedulerId: id,
      onQueue,
    };
  });

  const warnings = scheduleWarnings(input.stored?.entries ?? [], now);
  try {
    checkSchedule(input.server, input.backupMode, { entries: input.stored?.entries ?? [] }, input.settings.copyTargets.map((t) => t.name));
  } catch (error) {
    // Stored when the server had another backup mode: say so, the entry is skipped when it fires.
    warnings.unshift(`this schedule no longer fits the server: ${(error as Error).message}`);
  }
  const stray = (schedulers ?? [])
    .map((s) => s.id ?? s.key)
    .filter((id) => id.startsWith(`schedule:${input.server}:`) && !entries.some((e) => e.schedulerId === id));
  if (entries.some((e) => e.onQueue === false) || stray.length) {
    warnings.push("the queue is out of step with the stored schedule: it is brought back in step when the schedule is saved again or a worker starts");
  }

  const archive = find(redoArchiveSchedulerId(input.server));
  const { maxAgeSeconds, maxBytes } = input.settings.redoArchive;
  return {
    server: input.server,
    backupMode: input.backupMode,
    entries,
    updatedAt: input.stored?.updatedAt.toISOString() ?? null,
    updatedBy: input.stored?.updatedBy ?? null,
    warnings,
    redoArchive: {
      schedulerId: redoArchiveSchedulerId(input.server),
      everyMs: archive?.every ?? input.archiveEveryMs,
      maxAgeSeconds,
      maxBytes,
      description: `checked every ${seconds(archive?.every ?? input.archiveEveryMs)} by the server's worker; the log is sealed once it holds ${Math.round(maxBytes / 1048576)} MiB or its oldest record is ${maxAgeSeconds} s old`,
      onQueue: schedulers ? archive !== undefined : null,
      nextAt: archive?.next ? new Date(archive.next).toISOString() : null,
    },
    queue: { ok: schedulers !== null, error: Array.isArray(input.schedulers) ? null : input.schedulers.error, stray },
  };
}
