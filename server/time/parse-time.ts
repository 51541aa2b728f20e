/**
 * Times as admins type them: the seeds' formats (`2010/11/19 14:06:22`, `20101119.140622`,
 * `20101119140622`, with optional milliseconds) and ISO 8601. A time without a zone is UTC, like
 * session labels. Anything else is refused with the formats that work.
 */
import { InvalidInputError } from "../errors.ts";

const PATTERNS = [
  /^(\d{4})[/-](\d{2})[/-](\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?$/,
  /^(\d{4})(\d{2})(\d{2})(?:\.?(\d{2})(\d{2})(\d{2})?(?:\.(\d{1,3}))?)?$/,
];

/** A calendar date that exists (no 2026-02-30), from year 1970 on (no year 0000, which JavaScript reads as 1900). */
function realDate(y: number, mo: number, d: number): boolean {
  if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, mo, 0)).getUTCDate();
}

export function parseTime(text: string, what = "time"): Date {
  const value = text.trim();
  const refuse = () => new InvalidInputError(`unknown ${what} "${text.slice(0, 100)}": use 2010/11/19 14:06:22, 20101119.140622 or ISO 8601 (UTC unless a zone is given)`);
  for (const pattern of PATTERNS) {
    const m = pattern.exec(value);
    if (!m) continue;
    const [, y, mo, d, h = "0", mi = "0", s = "0", ms = "0"] = m;
    if (!realDate(+y!, +mo!, +d!) || +h > 23 || +mi > 59 || +s > 59) throw refuse();
    return new Date(Date.UTC(+y!, +mo! - 1, +d!, +h, +mi, +s, +ms.padEnd(3, "0")));
  }
  // ISO 8601 with a zone: its date must exist too (JavaScript would read 2026-02-30 as March 2nd).
  const iso = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/.exec(value);
  if (iso && realDate(+iso[1]!, +iso[2]!, +iso[3]!) && +iso[4]! <= 23 && +iso[5]! <= 59 && +(iso[6] ?? 0) <= 59) {
    const date = new Date(value);
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw refuse();
}
