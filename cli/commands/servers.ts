import type { Command } from "commander";
import { getServer, listServers } from "../../server/directory/list-servers.ts";
import { printJson, table } from "../output.ts";

export function registerServers(program: Command): void {
  program
    .command("servers")
    .description("list mailbox servers, or show one")
    .argument("[name]", "a server's name")
    .option("--json", "print JSON")
    .action(async (name: string | undefined, opts: { json?: boolean }) => {
      const servers = name ? [await getServer(name)] : await listServers();
      if (opts.json) return printJson(name ? servers[0] : servers);
      console.log(
        table(
          ["SERVER", "HOSTNAME", "MODE", "ACCOUNTS", "DELETED", "BACKUP TARGET"],
          servers.map((s) => [s.name, s.hostname, s.backupMode, String(s.accounts.total - s.accounts.deleted), String(s.accounts.deleted), s.backupTarget]),
        ),
      );
    });
}
