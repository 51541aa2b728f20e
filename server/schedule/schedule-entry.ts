/**
 * Schedule entries, zmschedulebackup's way: `f` full, `i` incremental, `a` auto-grouped,
 * `d <age>` delete sessions older than the age, and Mailvault's own `c <target>` copy every
 * published session the copy target lacks, and `v all|<N>` verify every session (and the
 * repository) or the newest N, and `s` mail a summary of the server's last day, each with a
 * five-field cron pattern and a time
 * zone. This module parses and checks them (pure: the server's backup mode comes in as an
 * argument) and knows Zimbra's default schedules.
 */
import { z } from "zod";
import { InvalidInputError } from "../errors.ts";
import { checkCronPattern, checkTimeZone, DEFAULT_TIME_ZONE } from "./cron.ts";

export const ENTRY_TYPES = ["full", "incremental", "auto_grouped", "retention", "copy", "verify", "summary", "drill"] as const;
export type EntryType = (typeof ENTRY_TYPES)[number];

/** zmschedulebackup's letter for each type. */
export const ENTRY_CODES: Record<EntryType, string> = { full: "f", incremental: "i", auto_grouped: "a", retention: "d", copy: "c", verify: "v", summary: "s", drill: "r" };
const TYPE_OF_CODE: Record<string, EntryType> = { f: "full", i: "incremental", a: "auto_grouped", d: "retention", c: "copy", v: "verify", s: "summary", r: "drill", auto: "auto_grouped", delete: "retention" };

export const ENTRY_NAMES: Record<EntryType, string> = {
  full: "the full backup",
  incremental: "the incremental backup",
  auto_grouped: "the auto-grouped backup",
  retention: "the retention (delete) entry",
  copy: "the copy entry",
  verify: "the verify entry",
  summary: "the summary mail entry",
  drill: "the restore drill entry",
};

export interface ScheduleEntry {
  type: EntryType;
  /** Five cron fields, single-spaced. */
  pattern: string;
  /** IANA time zone the pattern is read in. */
  tz: string;
  /** retention only: delete sessions older than this (7d, 4w, 1m, 1y). */
  age?: string;
  /** copy only: the copy target (by name) that gets every published session it lacks. */
  to?: string;
  /** verify: "all" (every session and the repository) or how many of the newest sessions; drill: how many accounts (default 3). */
  scope?: string;
}

export type BackupMode = "standard" | "auto_grouped";

/** An entry as the API and CLI send it: the type by name or by zmschedulebackup's letter. */
export const entryInput = z.object({
  type: z.string().trim().min(1, "each entry needs a type: f, i, a or d"),
  pattern: z.string({ error: "each entry needs a cron pattern" }),
  tz: z.string().optional(),
  age: z.string().optional(),
  to: z.string().optional(),
  scope: z.string().optional(),
});
export type EntryInput = z.input<typeof entryInput>;

export const scheduleInput = z.object({
  entries: z.array(entryInput).max(50, "at most 50 entries"),
  /** Time zone for entries that name none (default UTC). */
  tz: z.string().optional(),
});
export type ScheduleInput = z.input<typeof scheduleInput>;

const AGE = /^([1-9]\d{0,3})([dwmy])$/;

export function checkAge(text: string | undefined): string {
  const age = (text ?? "").trim().toLowerCase();
  if (!AGE.test(age)) {
    throw new InvalidInputError(`bad age "${text ?? ""}" for the retention entry: use a number with d, w, m or y (7d, 4w, 1m, 1y)`);
  }
  return age;
}

const TARGET_NAME = /^[a-z][a-z0-9-]{0,31}$/;
const SCOPE = /^(all|[1-9]\d{0,2})$/;

export function checkScope(text: string | undefined): string {
  const scope = (text ?? "").trim().toLowerCase();
  if (!SCOPE.test(scope)) throw new InvalidInputError(`bad scope "${text ?? ""}" for the verify entry: all, or how many of the newest sessions (1 to 999), e.g. v 3 "0 5 * * *"`);
  return scope;
}

const DRILL_SCOPE = /^([1-9]|1\d|20)$/;

export function checkDrillScope(text: string | undefined): string {
  const scope = (text ?? "").trim();
  if (!DRILL_SCOPE.test(scope)) throw new InvalidInputError(`bad account count "${text ?? ""}" for the restore drill entry: 1 to 20, e.g. r 3 "0 4 * * 0"`);
  return scope;
}

export function checkTargetName(text: string | undefined): string {
  const name = (text ?? "").trim();
  if (!TARGET_NAME.test(name)) throw new InvalidInputError(`bad target "${text ?? ""}" for the copy entry: name one of the server's copy targets, e.g. c offsite "0 3 * * *"`);
  return name;
}

export function entryType(text: string): EntryType {
  const key = text.trim().toLowerCase();
  const type = (ENTRY_TYPES as readonly string[]).includes(key) ? (key as EntryType) : TYPE_OF_CODE[key];
  if (!type) throw new InvalidInputError(`unknown schedule entry type "${text}": use f (full), i (incremental), a (auto-grouped), d <age> (delete) or c <target> (copy)`);
  return type;
}

/** One entry checked on its own: type, pattern, zone, age. */
export function checkEntry(input: EntryInput, defaultTz = DEFAULT_TIME_ZONE): ScheduleEntry {
  const type = entryType(input.type);
  const pattern = checkCronPattern(input.pattern, ENTRY_NAMES[type]);
  const tz = checkTimeZone(input.tz ?? defaultTz);
  if (input.to !== undefined && input.to !== "" && type !== "copy") throw new InvalidInputError(`a target belongs to a c (copy) entry, not to ${ENTRY_NAMES[type]}`);
  if (input.scope !== undefined && input.scope !== "" && type !== "verify" && type !== "drill") throw new InvalidInputError(`a scope belongs to a v (verify) or r (drill) entry, not to ${ENTRY_NAMES[type]}`);
  if (type === "verify") return { type, pattern, tz, scope: checkScope(input.scope ?? "all") };
  if (type === "drill") return { type, pattern, tz, scope: checkDrillScope(input.scope || "3") };
  if (type === "retention") return { type, pattern, tz, age: checkAge(input.age) };
  if (input.age !== undefined && input.age !== "") throw new InvalidInputError(`an age belongs to a d (delete) entry, not to ${ENTRY_NAMES[type]}`);
  if (type === "copy") return { type, pattern, tz, to: checkTargetName(input.to) };
  return { type, pattern, tz };
}

/**
 * A whole schedule checked against the server's backup mode. Refuses what cannot work or makes
 * no sense (an incremental on an auto-grouped server, an auto-grouped backup on a standard one,
 * the same entry twice); see scheduleWarnings for what is allowed but worth a second look.
 */
export function checkSchedule(server: string, mode: BackupMode, raw: ScheduleInput, copyTargets: string[] = []): ScheduleEntry[] {
  const input = scheduleInput.parse(raw);
  const defaultTz = checkTimeZone(input.tz ?? DEFAULT_TIME_ZONE);
  const entries = input.entries.map((e) => checkEntry(e, defaultTz));
  entries.forEach((entry, i) => {
    if (entry.type === "incremental" && mode === "auto_grouped") {
      throw new InvalidInputError(`${server} is auto-grouped: it takes no incremental backups (each auto-grouped run moves the redo); use a "<cron>" instead of i`);
    }
    if (entry.type === "auto_grouped" && mode === "standard") {
      throw new InvalidInputError(`${server} uses standard backups: an auto-grouped entry needs the server in auto-grouped mode; use f and i`);
    }
    if (entry.type === "copy" && !copyTargets.includes(entry.to!)) {
      throw new InvalidInputError(
        `${server} has no copy target ${entry.to}${copyTargets.length ? `: its copy targets are ${copyTargets.join(", ")}` : `: add one first (targets add -s ${server} ${entry.to} <folder or s3:// URL>)`}`,
      );
    }
    const twin = entries.findIndex((other) => sameEntry(other, entry));
    if (twin < i) throw new InvalidInputError(`entry ${i + 1} repeats entry ${twin + 1} (${formatEntry(entry)})`);
  });
  return entries;
}

function sameEntry(a: ScheduleEntry, b: ScheduleEntry): boolean {
  return a.type === b.type && a.pattern === b.pattern && a.tz === b.tz && a.age === b.age && a.to === b.to && a.scope === b.scope;
}

/** Zimbra's `zmschedulebackup -D` for the server's mode, in the given zone. */
export function defaultSchedule(mode: BackupMode, tz = DEFAULT_TIME_ZONE): ScheduleEntry[] {
  const retention: ScheduleEntry = { type: "retention", age: "1m", pattern: "0 0 * * *", tz };
  if (mode === "auto_grouped") return [{ type: "auto_grouped", pattern: "0 1 * * *", tz }, retention];
  return [{ type: "full", pattern: "0 1 * * 6", tz }, { type: "incremental", pattern: "0 1 * * 0-5", tz }, retention];
}

/** `f "0 1 * * 6"`, `d 1m "0 0 * * *"`, `c offsite "0 3 * * *"`, with the zone when it is not UTC. */
export function formatEntry(entry: ScheduleEntry): string {
  const age = entry.age ? ` ${entry.age}` : entry.to ? ` ${entry.to}` : entry.scope ? ` ${entry.scope}` : "";
  const tz = entry.tz === DEFAULT_TIME_ZONE ? "" : ` ${entry.tz}`;
  return `${ENTRY_CODES[entry.type]}${age} "${entry.pattern}"${tz}`;
}

/**
 * The commands that recreate a schedule (`schedulebackup --save`, zmschedulebackup's `-s`): one
 * `-R` with the entries up to the first change of zone, then one `-A` per further run of entries
 * in one zone (each naming it), so the order (and with it each entry's scheduler) comes back as it was. An empty
 * schedule is `--clear`.
 */
export function scheduleCommands(server: string, entries: ScheduleEntry[], bin = "./bin/mailvault"): string[] {
  if (entries.length === 0) return [`${bin} schedulebackup -s ${server} --clear`];
  const runs: ScheduleEntry[][] = [];
  for (const entry of entries) {
    const last = runs.at(-1);
    if (last && last[0]!.tz === entry.tz) last.push(entry);
    else runs.push([entry]);
  }
  return runs.map((run, i) => {
    const args = run.map((e) => formatEntry({ ...e, tz: DEFAULT_TIME_ZONE })).join(" ");
    // -A without --tz takes the schedule's zone, so an appended run always names its own.
    const tz = run[0]!.tz === DEFAULT_TIME_ZONE && i === 0 ? "" : ` --tz ${run[0]!.tz}`;
    return `${bin} schedulebackup -s ${server} ${i === 0 ? "-R" : "-A"} ${args}${tz}`;
  });
}

/**
 * zmschedulebackup's argument list: `f "0 1 * * 6" i "0 1 * * 0-5" d 1m "0 0 * * *"`. The
 * pattern may also come unquoted, as five separate words (`f 0 1 * * 6`), as a shell script
 * written for crontab might pass it.
 */
export function parseEntryArgs(args: string[]): EntryInput[] {
  const entries: EntryInput[] = [];
  let i = 0;
  while (i < args.length) {
    const type = entryType(args[i++]!);
    const age = type === "retention" ? args[i++] : undefined;
    if (type === "retention" && (age === undefined || !AGE.test(age.trim().toLowerCase()))) checkAge(age);
    const to = type === "copy" ? checkTargetName(args[i++]) : undefined;
    // v takes an optional scope (default all): a word that is all or a number, not a pattern's.
    const scope =
      type === "verify" && args[i] !== undefined && SCOPE.test(args[i]!.trim().toLowerCase()) && args[i]!.trim().split(/\s+/).length === 1 && args[i + 1] !== undefined
        ? checkScope(args[i++])
        : type === "drill" && args[i] !== undefined && /^\d+$/.test(args[i]!.trim()) && args[i + 1] !== undefined && args[i + 1]!.trim().split(/\s+/).length > 1
          ? checkDrillScope(args[i++])
          : undefined;
    const next = args[i];
    if (next === undefined) throw new InvalidInputError(`${ENTRY_CODES[type]} needs a cron pattern, e.g. ${ENTRY_CODES[type]}${age ? ` ${age}` : to ? ` ${to}` : ""} "0 1 * * 6"`);
    let pattern = next;
    i++;
    if (next.trim().split(/\s+/).length === 1) {
      // Unquoted: take words until the pattern has five fields or the next entry begins.
      const words = [next];
      while (words.length < 5 && i < args.length && !TYPE_OF_CODE[args[i]!.toLowerCase()]) words.push(args[i++]!);
      pattern = words.join(" ");
    }
    entries.push({ type, pattern, ...(age === undefined ? {} : { age }), ...(to === undefined ? {} : { to }), ...(scope === undefined ? {} : { scope }) });
  }
  return entries;
}
