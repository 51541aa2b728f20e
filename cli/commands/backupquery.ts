import type { Command } from "commander";
import { getSession, querySessions } from "../../server/backup/query-sessions.ts";
import { printJson, table } from "../output.ts";

const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

export function registerBackupquery(program: Command): void {
  program
    .command("backupquery")
    .description("list backup sessions; -a finds an account by any name it ever had")
    .option("-s, --server <name>", "only this server")
    .option("-a, --account <name>", "sessions holding this account (current or former email, or id)")
    .option("--type <type>", "full or incremental")
    .option("--status <status>", "queued, running, completed, failed, aborted or interrupted")
    .option("--from <time>", "sessions started at or after (2010/11/19 14:06:22, 20101119.140622 or ISO 8601; UTC)")
    .option("--to <time>", "sessions started at or before")
    .option("--label <label>", "one session (also -lb)")
    .option("-v, --verbose", "list each session's accounts")
    .option("--json", "print JSON")
    .action(async (opts: { server?: string; account?: string; type?: string; status?: string; from?: string; to?: string; label?: string; verbose?: boolean; json?: boolean }) => {
      const result = await querySessions({ ...opts, pageSize: 200 });
      if (opts.json && !opts.verbose) return printJson(result);
      const details = opts.verbose ? await Promise.all(result.sessions.map((s) => getSession(s.server, s.label))) : [];
      if (opts.json) return printJson(details);
      console.log(
        table(
          ["LABEL", "SERVER", "STATUS", "ACCOUNTS", "REDO", "WRITTEN", "STARTED (UTC)", ...(opts.account ? ["NAME THEN"] : [])],
          result.sessions.map((s) => [
            s.label,
            s.server,
            s.status,
            `${s.fullAccounts} full / ${s.accountsTotal}`,
            s.redoThroughSeq === null ? "" : `${s.redoFromSeq ?? "-"}..${s.redoThroughSeq}`,
            mib(s.bytesWritten),
            s.createdAt.slice(0, 19).replace("T", " "),
            ...(opts.account ? [s.accountEmail ?? ""] : []),
          ]),
        ),
      );
      for (const d of details) {
        console.log(`\n${d.label}: ${d.accounts.length} account(s)`);
        for (const a of d.accounts) console.log(`  ${a.email}${a.currentEmail && a.currentEmail !== a.email ? ` (now ${a.currentEmail})` : ""}\t${a.kind}\t${a.reason}`);
      }
      if (result.total > result.sessions.length) console.log(`\n${result.sessions.length} of ${result.total} sessions shown`);
    });
}
