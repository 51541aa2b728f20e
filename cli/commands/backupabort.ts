import type { Command } from "commander";
import { abortBackup } from "../../server/backup/abort-backup.ts";
import { abortRestore } from "../../server/restore/run-restore.ts";

export function registerBackupabort(program: Command): void {
  program
    .command("backupabort")
    .description("stop a running backup session (what it wrote is never published), or with -r a restore after its current account")
    .requiredOption("-s, --server <name>", "mailbox server")
    .option("--label <label>", "the session, also -lb (default: the one running on the server)")
    .option("-r, --restore", "abort a restore instead")
    .action(async (opts: { server: string; label?: string; restore?: boolean }) => {
      const result = opts.restore ? await abortRestore({ server: opts.server, label: opts.label }) : await abortBackup({ server: opts.server, label: opts.label });
      console.log(`${result.label}: ${result.status}`);
    });
}
