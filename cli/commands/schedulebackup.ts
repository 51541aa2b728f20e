import os from "node:os";
import type { Command } from "commander";
import { InvalidInputError } from "../../server/errors.ts";
import { appendToSchedule, applyDefaultSchedule, clearSchedule, getSchedule, replaceSchedule } from "../../server/schedule/manage-schedule.ts";
import { parseEntryArgs, scheduleCommands } from "../../server/schedule/schedule-entry.ts";
import type { ScheduleView } from "../../server/schedule/schedule-view.ts";
import { printJson, table } from "../output.ts";

interface Options {
  server: string;
  /** Named `query` so cli/main.ts does not audit a query. */
  query?: boolean;
  replace?: string[];
  append?: string[];
  defaults?: boolean;
  clear?: boolean;
  save?: boolean;
  tz?: string;
  json?: boolean;
}

function print(heading: string, view: ScheduleView): void {
  console.log(heading);
  const changed = view.updatedAt ? `, set ${view.updatedAt.slice(0, 16).replace("T", " ")} UTC by ${view.updatedBy || "?"}` : "";
  console.log(`\n${view.server} (${view.backupMode === "auto_grouped" ? "auto-grouped" : "standard"} backups${changed}):\n`);
  if (view.entries.length === 0) console.log("  no scheduled backups (set some with -R, -A or -D)");
  else {
    const rows = view.entries.map((e) => [
      String(e.n),
      e.text,
      e.when,
      e.nextRuns.map((r) => r.local).join(", "),
      e.onQueue === false ? "not on the queue" : "",
    ]);
    console.log(table(["#", "entry", "when", "next runs (entry's zone)", ""], rows).replace(/^/gm, "  "));
  }
  const idle = view.redoArchive.onQueue === false ? " (not on the queue: no worker has started for this server)" : "";
  console.log(`\n  redo archive: ${view.redoArchive.description}${idle}`);
  for (const warning of view.warnings) console.log(`  warning: ${warning}`);
  if (!view.queue.ok) console.log(`  warning: ${view.queue.error}`);
}

export function registerSchedulebackup(program: Command): void {
  program
    .command("schedulebackup")
    .description('show or change a server\'s backup schedule, as zmschedulebackup: entries f "<cron>", i "<cron>", a "<cron>", d <age> "<cron>", c <target> "<cron>"')
    .requiredOption("-s, --server <name>", "mailbox server")
    .option("-q, --query", "show the schedule with each entry's next runs")
    .option("-R, --replace <entries...>", 'replace the whole schedule: f "0 1 * * 6" i "0 1 * * 0-5" d 1m "0 0 * * *"')
    .option("-A, --append <entries...>", 'add entries to the schedule: f "0 1 * * 4"')
    .option("-D, --defaults", "Zimbra's default schedule for the server's backup mode")
    .option("--clear", "remove every entry: no scheduled backups")
    .option("--save", "print the schedule as the commands that recreate it (zmschedulebackup -s)")
    .option("--tz <zone>", "IANA time zone of the patterns given (default UTC)")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      `
Patterns are crontab's five fields (minute hour day-of-month month day-of-week); quote each one.
Ages: 7d, 4w, 1m, 1y. Defaults (-D): standard servers f "0 1 * * 6", i "0 1 * * 0-5",
d 1m "0 0 * * *"; auto-grouped servers a "0 1 * * *", d 1m "0 0 * * *". A server has no
scheduled backups until one is set.`,
    )
    .action(async (opts: Options) => {
      const chosen = [opts.query, opts.replace, opts.append, opts.defaults, opts.clear, opts.save].filter((o) => o !== undefined).length;
      if (chosen !== 1) throw new InvalidInputError("choose one: -q (query), -R <entries> (replace), -A <entries> (append), -D (defaults), --clear or --save");
      if (opts.tz !== undefined && (opts.query || opts.clear || opts.save)) throw new InvalidInputError("--tz goes with -R, -A or -D");
      if (opts.save) {
        const view = await getSchedule(opts.server);
        const lines = scheduleCommands(view.server, view.entries.map(({ type, pattern, tz, age, to, scope }) => ({ type, pattern, tz, age, to, scope })));
        if (opts.json) return printJson({ server: view.server, commands: lines });
        return console.log(lines.join("\n"));
      }
      const by = `cli:${os.userInfo().username}`; // as cli/main.ts names CLI users in the audit log
      let heading = "Current schedule:";
      let view: ScheduleView;
      if (opts.replace) {
        view = await replaceSchedule({ server: opts.server, entries: parseEntryArgs(opts.replace), tz: opts.tz, by });
        heading = "Schedule replaced.";
      } else if (opts.append) {
        view = await appendToSchedule({ server: opts.server, entries: parseEntryArgs(opts.append), tz: opts.tz, by });
        heading = "Schedule appended.";
      } else if (opts.defaults) {
        view = await applyDefaultSchedule({ server: opts.server, tz: opts.tz, by });
        heading = "Default schedule set.";
      } else if (opts.clear) {
        view = await clearSchedule({ server: opts.server, by });
        heading = "Schedule cleared.";
      } else view = await getSchedule(opts.server);
      if (opts.json) return printJson(view);
      print(heading, view);
    });
}
