import type { Command } from "commander";
import type { ServerSummary } from "../../server/directory/list-servers.ts";
import { describeTargets } from "../../server/backup/server-targets.ts";
import { addCopyTarget, removeCopyTarget } from "../../server/directory/copy-targets.ts";
import { getServer } from "../../server/directory/list-servers.ts";
import { InvalidInputError } from "../../server/errors.ts";
import { printJson, table } from "../output.ts";

function size(bytes: number | null): string {
  if (bytes === null) return "-";
  return bytes >= 1 << 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** The server named by -s, which the `targets` command takes for its subcommands too. */
async function serverOf(command: Command): Promise<ServerSummary> {
  const name = command.opts<{ server?: string }>().server ?? command.parent?.opts<{ server?: string }>().server;
  if (!name) throw new InvalidInputError("name the server: targets -s <server>");
  return getServer(name);
}

export function registerTargets(program: Command): void {
  const targets = program
    .command("targets")
    .description("a server's backup targets: its own, and the copy targets `copy --to` sends sessions to")
    .option("-s, --server <name>", "mailbox server")
    .option("--json", "print JSON")
    .action(async (opts: { json?: boolean }, command: Command) => {
      const views = await describeTargets(await serverOf(command));
      if (opts.json) return printJson(views);
      console.log(
        table(
          ["TARGET", "ROLE", "KIND", "LOCATION", "ENCRYPTED", "PACKS", "FREE", "SESSIONS", "LAST COPY"],
          views.map((v) => [
            v.name,
            v.role,
            v.kind,
            v.location,
            v.encrypted === null ? "?" : v.encrypted ? "yes" : "no",
            size(v.packBytes),
            size(v.freeBytes),
            String(v.sessions),
            v.lastCopy ? `${v.lastCopy.label} (${v.lastCopy.at.slice(0, 16).replace("T", " ")} UTC)` : v.role === "copy" ? "never" : "-",
          ]),
        ),
      );
      for (const v of views) if (v.error) console.log(`${v.name}: cannot be read: ${v.error}`);
    });
  targets
    .command("add")
    .description("add a copy target: a folder (absolute path) or s3://bucket/prefix?endpoint=…&pathStyle=1 (targets add -s <server> <name> <url>)")
    .argument("<name>", "the target's name, e.g. offsite")
    .argument("<url>", "an absolute folder path or an s3:// URL (credentials come from the environment)")
    .action(async (name: string, url: string, _opts: unknown, command: Command) => {
      const server = (await serverOf(command)).name;
      const list = await addCopyTarget(server, { name, url });
      console.log(`${server} copies to: ${list.map((t) => `${t.name} (${t.url.replace(/\?.*$/, "")})`).join(", ")}`);
    });
  targets
    .command("remove")
    .description("forget a copy target; what it holds stays where it is (targets remove -s <server> <name>)")
    .argument("<name>", "the copy target's name")
    .action(async (name: string, _opts: unknown, command: Command) => {
      const server = (await serverOf(command)).name;
      const list = await removeCopyTarget(server, name);
      console.log(list.length ? `${server} copies to: ${list.map((t) => t.name).join(", ")}` : `${server} has no copy targets`);
    });
}
