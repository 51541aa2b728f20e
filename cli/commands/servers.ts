import type { Command } from "commander";
import { getServer, listServers } from "../../server/directory/list-servers.ts";
import { setServerSettings } from "../../server/directory/update-settings.ts";
import { printJson, table } from "../output.ts";

export function registerServers(program: Command): void {
  const servers = program
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
  servers
    .command("set")
    .description("change a server's settings: reportTo=a@x,b@y (empty: MAILVAULT_REPORT_TO), lmtpHost, lmtpPort, workerConcurrency, minFreeBytes, minFreePercent")
    .argument("<server>", "the server")
    .argument("<key=value...>", "settings to change")
    .action(async (name: string, assignments: string[]) => {
      const server = await getServer(name);
      const settings = await setServerSettings(server.name, assignments);
      const keys = assignments.map((a) => a.split("=")[0]!) as (keyof typeof settings)[];
      console.log(`${server.name}: ${keys.map((k) => `${k}=${Array.isArray(settings[k]) ? (settings[k] as string[]).join(",") : String(settings[k])}`).join(" ")}`);
    });
}
