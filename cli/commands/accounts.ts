import type { Command } from "commander";
import { searchAccounts, searchAccountsInput } from "../../server/directory/search-accounts.ts";
import { printJson, table } from "../output.ts";

export function registerAccounts(program: Command): void {
  program
    .command("accounts")
    .description("search accounts by any name they ever had (current or former), deleted ones included")
    .argument("[query]", "part of an email address")
    .option("-s, --server <name>", "only this server")
    .option("--status <status>", "active, maintenance, locked, closed or deleted")
    .option("--kind <kind>", "copies (prefixed copies restores made) or originals")
    .option("--page <n>", "page number", "1")
    .option("--page-size <n>", "accounts per page (at most 200)", "25")
    .option("--json", "print JSON")
    .action(async (query: string | undefined, opts: { server?: string; status?: string; kind?: string; page: string; pageSize: string; json?: boolean }) => {
      const input = searchAccountsInput.parse({ q: query, server: opts.server, status: opts.status, kind: opts.kind, page: opts.page, pageSize: opts.pageSize });
      const result = await searchAccounts(input);
      if (opts.json) return printJson(result);
      console.log(
        table(
          ["EMAIL", "SERVER", "STATUS", "MATCHED FORMER NAME", "COPY OF", "ID"],
          result.items.map((a) => [a.email, a.server, a.deletedAt ? `deleted ${a.deletedAt.slice(0, 10)}` : a.status, a.matchedFormerName ?? "", a.copyOf ?? "", a.id]),
        ),
      );
      const first = result.total ? (result.page - 1) * result.pageSize + 1 : 0;
      console.log(`\n${first}-${first + result.items.length - (result.items.length ? 1 : 0)} of ${result.totalExact ? "" : "about "}${result.total}`);
    });
}
