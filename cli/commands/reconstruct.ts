import type { Command } from "commander";
import { prisma } from "../../server/db/console-db.ts";
import { submitRestore } from "../../server/restore/submit-restore.ts";

export function registerReconstruct(program: Command, requestedBy: string): void {
  program
    .command("reconstruct")
    .description("rebuild damaged mailboxes' items from their last backup and the redo since: an in-place restore to the last committed change")
    .requiredOption("-s, --server <name>", "mailbox server")
    .requiredOption("-a, --account <emails...>", "the mailboxes")
    .action(async (opts: { server: string; account: string[] }) => {
      const run = await submitRestore({ server: opts.server, accounts: opts.account, continueOnError: true, requestedBy: `${requestedBy} (reconstruct)` });
      if (run.dryRun) return;
      for (;;) {
        const row = await prisma().restoreRun.findUniqueOrThrow({ where: { id: run.runId } });
        if (!["queued", "running", "failing"].includes(row.status)) {
          console.log(`${row.label} ${row.status}${row.error ? `: ${row.error}` : ""}`);
          if (row.status !== "completed") process.exitCode = 1;
          return;
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    });
}
