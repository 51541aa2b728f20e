/**
 * Cron patterns and time zones for backup schedules, checked with the same parser BullMQ's job
 * schedulers use (cron-parser), so a pattern accepted here is one the queue can run. Patterns
 * are crontab's five fields (minute hour day-of-month month day-of-week, 0 or 7 is Sunday, names
 * allowed); cron-parser's extensions (a seconds field, `H`, `L`, `#`, `?`) are refused because a
 * crontab would not take them and they would surprise an admin reading the schedule later.
 */
import { CronExpressionParser, type CronExpression } from "cron-parser";
import { InvalidInputError } from "../errors.ts";

export const DEFAULT_TIME_ZONE = "UTC";

const NAMES = /\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|sun|mon|tue|wed|thu|fri|sat)\b/gi;

/** An IANA time zone, with its canonical case (`europe/berlin` -> `Europe/Berlin`), or an error. */
export function checkTimeZone(tz: string): string {
  const text = tz.trim();
  if (!text) throw new InvalidInputError("time zone is empty: use an IANA name such as UTC or Europe/Berlin");
  try {
    const canonical = new Intl.DateTimeFormat("en-US", { timeZone: text }).resolvedOptions().timeZone;
    // Keep what was typed (EST stays EST) unless only its case differs.
    const zone = canonical.toLowerCase() === text.toLowerCase() ? canonical : text;
    CronExpressionParser.parse("0 0 * * *", { tz: zone }).next();
    return zone;
  } catch {
    throw new InvalidInputError(`unknown time zone "${text}": use an IANA name such as UTC, Europe/Berlin or America/New_York`);
  }
}

/**
 * The pattern with single spaces between its five fields, or an InvalidInputError naming what
 * it was for (`invalid cron pattern "0 25 * * *" for the full backup: ...`).
 */
export function checkCronPattern(pattern: string, what: string): string {
  const fields = pattern.trim().split(/\s+/).filter(Boolean);
  const refuse = (why: string) => new InvalidInputError(`invalid cron pattern "${pattern}" for ${what}: ${why}`);
  if (fields.length !== 5) {
    throw refuse(`expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}; quote the pattern, e.g. "0 1 * * 6"`);
  }
  // Names are fine (sat, mon-fri, jul); any other letter, `#` or `?` is an extension.
  const odd = fields.find((f) => /[a-z#?]/i.test(f.replace(NAMES, "")));
  if (odd) throw refuse(`"${odd}" is not crontab syntax; use numbers, ranges (1-5), lists (1,3), steps (*/15) or names (sat)`);
  const normalized = fields.join(" ");
  try {
    CronExpressionParser.parse(normalized, { tz: DEFAULT_TIME_ZONE }).next();
  } catch (error) {
    if (/invalid explicit day|out of the timespan|no valid/i.test((error as Error).message)) throw refuse("it never runs (no such date)");
    throw refuse((error as Error).message);
  }
  return normalized;
}

export function parseCron(pattern: string, tz: string, from: Date): CronExpression {
  return CronExpressionParser.parse(pattern, { tz, currentDate: from });
}

export interface NextRun {
  /** The instant, in UTC. */
  at: string;
  /** The same instant as a wall clock in the entry's zone: `2026-11-28 01:00 Sat`. */
  local: string;
}

/** `2026-11-28 01:00 Sat` in the given zone. */
export function wallClock(at: Date, tz: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      weekday: "short",
      hourCycle: "h23",
    })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${parts.weekday}`;
}

/** The next `count` runs strictly after `from`, as BullMQ will compute them. */
export function nextRuns(pattern: string, tz: string, count: number, from = new Date()): NextRun[] {
  const expression = parseCron(pattern, tz, from);
  const runs: NextRun[] = [];
  for (let i = 0; i < count && expression.hasNext(); i++) {
    const at = expression.next().toDate();
    runs.push({ at: at.toISOString(), local: wallClock(at, tz) });
  }
  return runs;
}

/** Every run after `from` and before `until`, at most `limit` of them; for finding entries that collide. */
export function runsBetween(pattern: string, tz: string, from: Date, until: Date, limit = 5_000): number[] {
  const expression = parseCron(pattern, tz, from);
  const times: number[] = [];
  while (times.length < limit && expression.hasNext()) {
    const at = expression.next().getTime();
    if (at >= until.getTime()) break;
    times.push(at);
  }
  return times;
}
