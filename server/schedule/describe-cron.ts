/**
 * A cron pattern in plain words, for the console and `schedulebackup -q`: "At 01:00, only on
 * Saturday (Europe/Berlin)". The words are cronstrue's (24-hour times), read from the pattern as
 * written, with the entry's time zone after them; a pattern it cannot read is quoted as it is.
 */
import cronstrue from "cronstrue";

export function describeCron(pattern: string, tz: string): string {
  try {
    return `${cronstrue.toString(pattern, { use24HourTimeFormat: true, verbose: false, throwExceptionOnParseError: true })} (${tz})`;
  } catch {
    return `at cron "${pattern}" (${tz})`;
  }
}
