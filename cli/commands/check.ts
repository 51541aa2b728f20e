import type { Command } from "commander";
import { InvalidInputError } from "../../server/errors.ts";
import { openMailstore } from "../../server/mailstore/mailstore.ts";
import { checkMailbox, type MailboxCheck } from "../../server/restore/check-mailbox.ts";
import { printJson } from "../output.ts";

export function registerCheck(program: Command): void {
  program
    .command("check")
    .description("check mailboxes for missing system folders or blobs, orphans, wrong sizes and change numbers out of step (empty mailboxes too); exit 1 if any")
    .requiredOption("-s, --server <name>", "mailbox server")
    .option("-a, --account <emails...>", "these mailboxes")
    .option("--all", "every mailbox of the server")
    .option("--json", "print JSON")
    .action(async (opts: { server: string; account?: string[]; all?: boolean; json?: boolean }) => {
      if (!opts.all && !opts.account?.length) throw new InvalidInputError("check -a <emails...> or --all");
      const store = await openMailstore(opts.server);
      const emails = opts.all ? (await store.pool.query<{ email: string }>("SELECT email FROM mailstore.mailbox ORDER BY email")).rows.map((r) => r.email) : opts.account!;
      const reports: MailboxCheck[] = [];
      for (const email of emails) reports.push(await checkMailbox(store, email));
      if (opts.json) printJson(reports);
      else {
        for (const r of reports.filter((r) => !r.ok)) {
          console.log(`${r.email}: ${r.problems.length} problem(s)`);
          for (const p of r.problems) console.log(`  ${p.kind}: ${p.message}`);
        }
        const bad = reports.filter((r) => !r.ok).length;
        console.log(`${reports.length} mailbox(es) checked, ${bad} with problems${bad ? ": `mailvault reconstruct -s <server> -a <email>` rebuilds one from its backup and redo" : ""}`);
      }
      if (reports.some((r) => !r.ok)) process.exitCode = 1;
    });
}
