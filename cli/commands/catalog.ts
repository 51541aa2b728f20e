import type { Command } from "commander";
import { rescanCatalog } from "../../server/backup/rescan-catalog.ts";
import { InvalidInputError } from "../../server/errors.ts";
import { printJson } from "../output.ts";

export function registerCatalog(program: Command): void {
  program
    .command("catalog")
    .description("rebuild the console's catalog of a server's backups from its backup target")
    .requiredOption("-s, --server <name>", "mailbox server")
    .option("--rescan", "read the target and replace the catalog's sessions with what it holds")
    .option("--json", "print JSON")
    .action(async (opts: { server: string; rescan?: boolean; json?: boolean }) => {
      if (!opts.rescan) throw new InvalidInputError("say --rescan to rebuild the catalog from the target");
      const result = await rescanCatalog(opts.server);
      if (opts.json) return printJson(result);
      const statuses = Object.entries(result.byStatus).map(([s, n]) => `${n} ${s}`).join(", ");
      console.log(`${opts.server}: ${result.sessions} session(s) (${statuses || "none"}), ${result.accounts} account entries`);
    });
}
