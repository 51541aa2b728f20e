import type { Command } from "commander";
import { submitBackup } from "../../server/backup/submit-backup.ts";
import { InvalidInputError } from "../../server/errors.ts";
import { printJson } from "../output.ts";
import { waitForSession } from "../wait-session.ts";
import { runRetention } from "./retention.ts";

interface Options {
  server: string;
  full?: boolean;
  incremental?: boolean;
  account?: string[];
  wait?: boolean;
  del?: string;
  plan?: boolean;
  json?: boolean;
  excludeBlobs?: boolean;
}

export function registerBackup(program: Command, requestedBy: string): void {
  program
    .command("backup")
    .description("start a backup session (-f full, -i incremental), or delete old sessions (-del)")
    .requiredOption("-s, --server <name>", "mailbox server")
    .option("-f, --full", "full backup")
    .option("-i, --incremental", "incremental backup: the redo since the last session, and fulls of accounts that have none")
    .option("-a, --account <emails...>", "accounts for a full backup: all, or emails (default: all; on an auto-grouped server, its next group)")
    .option("--wait", "show progress and wait; exit non-zero unless the session completes")
    .option("--del <age-or-label>", "retention (also -del): delete sessions older than 7d, 4w, 1m, 1y, or older than a label")
    .option("--plan", "with -del: print what would be deleted and why, delete nothing")
    .option("--exclude-blobs", "metadata only (zimbraBackupSkipBlobs): message bodies are not copied; a restore from it needs them on the blob volume")
    .option("--json", "print JSON")
    .action(async (opts: Options) => {
      if (opts.del !== undefined) {
        if (opts.full || opts.incremental || opts.excludeBlobs) throw new InvalidInputError("-del deletes sessions; do not combine it with -f, -i or --exclude-blobs");
        return runRetention(opts.server, opts.del, { planOnly: opts.plan ?? false, json: opts.json ?? false, requestedBy });
      }
      if (opts.full === opts.incremental) throw new InvalidInputError("choose one: -f (full) or -i (incremental)");
      const accounts = opts.account === undefined ? undefined : opts.account.length === 1 && opts.account[0] === "all" ? "all" : opts.account;
      const submitted = await submitBackup({ server: opts.server, type: opts.full ? "full" : "incremental", accounts, requestedBy, excludeBlobs: opts.excludeBlobs ?? false });
      if (!opts.wait) return opts.json ? printJson(submitted) : console.log(submitted.label);
      const session = await waitForSession(submitted.server, submitted.label);
      if (opts.json) printJson(session);
      else console.log(`${session.label} ${session.status}${session.error ? `: ${session.error}` : ""}`);
      if (session.status !== "completed") process.exitCode = 1;
    });
}
