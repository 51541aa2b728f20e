/**
 * What a schedule allows but an admin should see: backups that start at the same minute (only
 * one runs; the other finds a backup in progress and is skipped, as Zimbra's own example
 * `-A f "0 1 * * 4"` on top of the defaults does on Thursdays), no retention at all, several
 * retention ages, incrementals with no full. Warnings are shown, never refused.
 */
import { runsBetween, wallClock } from "./cron.ts";
import { formatEntry, type ScheduleEntry } from "./schedule-entry.ts";

const DAY_MS = 86_400_000;
/** How far ahead collisions are looked for: every weekly and monthly pattern meets in 5 weeks. */
const HORIZON_DAYS = 35;

function ageDays(age: string): number {
  const n = Number(age.slice(0, -1));
  return n * ({ d: 1, w: 7, m: 30, y: 365 } as Record<string, number>)[age.at(-1)!]!;
}

function firstCollision(a: ScheduleEntry, b: ScheduleEntry, from: Date): number | null {
  const until = new Date(from.getTime() + HORIZON_DAYS * DAY_MS);
  const times = new Set(runsBetween(a.pattern, a.tz, from, until));
  return runsBetween(b.pattern, b.tz, from, until).find((t) => times.has(t)) ?? null;
}

export function scheduleWarnings(entries: ScheduleEntry[], now = new Date()): string[] {
  const warnings: string[] = [];
  const backups = entries.map((e, i) => ({ e, n: i + 1 })).filter(({ e }) => e.type !== "retention" && e.type !== "copy" && e.type !== "verify" && e.type !== "summary" && e.type !== "drill");
  const retention = entries.filter((e) => e.type === "retention");
  if (backups.length && !retention.length) warnings.push("no d (delete) entry: old sessions are never deleted automatically");
  if (retention.length > 1) {
    const shortest = retention.reduce((a, b) => (ageDays(b.age!) < ageDays(a.age!) ? b : a));
    warnings.push(`${retention.length} d (delete) entries: the shortest age, ${shortest.age}, decides what is kept`);
  }
  if (backups.some(({ e }) => e.type === "incremental") && !backups.some(({ e }) => e.type === "full")) {
    warnings.push("incrementals but no scheduled full: restores replay ever more redo from each account's last full");
  }
  for (let i = 0; i < backups.length; i++) {
    for (let j = i + 1; j < backups.length; j++) {
      const a = backups[i]!;
      const b = backups[j]!;
      const at = firstCollision(a.e, b.e, now);
      if (at === null) continue;
      warnings.push(
        `entries ${a.n} (${formatEntry(a.e)}) and ${b.n} (${formatEntry(b.e)}) both start a backup at ${wallClock(new Date(at), a.e.tz)} ${a.e.tz}: ` +
          "only one runs, the other finds a backup in progress and is skipped",
      );
    }
  }
  return warnings;
}
