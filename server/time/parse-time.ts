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

export function parseTime(text: string, what = "time"): Date {
  const value = text.trim();
  for (const pattern of PATTERNS) {
    const m = pattern.exec(value);
    if (!m) continue;
    const [, y, mo, d, h = "0", mi = "0", s = "0", ms = "0"] = m;
    const date = new Date(Date.UTC(+y!, +mo! - 1, +d!, +h, +mi, +s, +ms.padEnd(3, "0")));
    if (date.getUTCMonth() !== +mo! - 1 || date.getUTCDate() !== +d! || +h > 23 || +mi > 59 || +s > 59) break;
    return date;
  }
  if (/^\d{4}-\d{2}-\d{2}T.+(Z|[+-]\d{2}:?\d{2})$/.test(value)) {
    const date = new Date(value);
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw new InvalidInputError(`unknown ${what} "${text}": use 2010/11/19 14:06:22, 20101119.140622 or ISO 8601 (UTC unless a zone is given)`);
}
