/**
 * A cron pattern in plain words, for the console and `schedulebackup -q`: "every Saturday at
 * 01:00 Europe/Berlin", "Sunday through Friday at 01:00 UTC", "every 15 minutes (UTC)". Works on
 * the parsed fields, so `0 1 * * 7`, `0 1 * * sun` and `0 1 * * 0` read the same. What it cannot
 * say simply it quotes (`at cron "5,35 8-18 * * *" UTC`) rather than guess.
 */
import { CronExpressionParser } from "cron-parser";

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

function list(words: string[]): string {
  return words.length <= 1 ? (words[0] ?? "") : `${words.slice(0, -1).join(", ")} and ${words.at(-1)}`;
}

/** Consecutive runs of numbers: [0,1,2,3,5] -> [[0,3],[5,5]]. */
function runs(values: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const v of values) {
    const last = out.at(-1);
    if (last && v === last[1] + 1) last[1] = v;
    else out.push([v, v]);
  }
  return out;
}

/** Runs of three or more as "A through B", the rest listed. */
function spans(values: number[], name: (n: number) => string): string {
  return list(runs(values).flatMap(([a, b]) => (b - a >= 2 ? [`${name(a)} through ${name(b)}`] : a === b ? [name(a)] : [name(a), name(b)])));
}

const pad = (n: number) => String(n).padStart(2, "0");

function numbers(values: readonly (number | string)[]): number[] {
  return values.filter((v): v is number => typeof v === "number");
}

function describeDays(dom: number[], domAll: boolean, dow: number[], dowAll: boolean): string {
  const weekdays = [...new Set(dow.map((d) => d % 7))].sort((a, b) => a - b);
  const everyWeekday = dowAll || weekdays.length === 7;
  const weekPart = weekdays.length === 1 ? `every ${DAYS[weekdays[0]!]}` : spans(weekdays, (d) => DAYS[d]!);
  const monthDays = dom.length === 1 ? `on day ${dom[0]} of the month` : `on days ${spans(dom, String)} of the month`;
  if (domAll && everyWeekday) return "every day";
  if (domAll) return weekPart;
  if (everyWeekday) return monthDays;
  // crontab runs when either day field matches
  return `${monthDays} and ${weekPart}`;
}

/** "at 01:00", "at 00:00 and 12:00", "every 15 minutes", "every hour at :05", or null. */
function describeTime(minutes: number[], minutesAll: boolean, hours: number[], hoursAll: boolean): { phrase: string; clock: boolean } | null {
  if (minutes.length === 1 && !hoursAll && hours.length <= 6) {
    return { phrase: `at ${list(hours.map((h) => `${pad(h)}:${pad(minutes[0]!)}`))}`, clock: true };
  }
  if (minutes.length === 1 && hoursAll) return { phrase: `every hour at :${pad(minutes[0]!)}`, clock: false };
  if (hoursAll && (minutesAll || minutes.length > 1)) {
    const step = minutes.length > 1 ? minutes[1]! - minutes[0]! : 1;
    const even = minutes[0] === 0 && minutes.every((m, i) => m === i * step) && 60 % step === 0;
    if (minutesAll || (even && step === 1)) return { phrase: "every minute", clock: false };
    if (even) return { phrase: `every ${step} minutes`, clock: false };
  }
  return null;
}

export function describeCron(pattern: string, tz: string): string {
  const { fields } = CronExpressionParser.parse(pattern);
  const time = describeTime(numbers(fields.minute.values), fields.minute.isWildcard, numbers(fields.hour.values), fields.hour.isWildcard);
  if (!time) return `at cron "${pattern}" ${tz}`;
  let days = describeDays(numbers(fields.dayOfMonth.values), fields.dayOfMonth.isWildcard, numbers(fields.dayOfWeek.values), fields.dayOfWeek.isWildcard);
  const months = numbers(fields.month.values);
  if (!fields.month.isWildcard && months.length < 12) days += ` in ${spans(months, (m) => MONTHS[m - 1]!)}`;
  if (time.clock) return `${days} ${time.phrase} ${tz}`;
  return days === "every day" ? `${time.phrase} (${tz})` : `${time.phrase}, ${days} (${tz})`;
}
