import type { Command } from "commander";
import { abortBackup } from "../../server/backup/abort-backup.ts";

export function registerBackupabort(program: Command): void {
  program
    .command("backupabort")
    .description("stop a running backup session; what it wrote is never published")
    .requiredOption("-s, --server <name>", "mailbox server")
    .option("--label <label>", "the session, also -lb (default: the one running on the server)")
    .action(async (opts: { server: string; label?: string }) => {
      const result = await abortBackup({ server: opts.server, label: opts.label });
      console.log(`${result.label}: ${result.status}`);
    });
}
