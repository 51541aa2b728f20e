import type { Command } from "commander";
import { copyBack } from "../../server/restore/copy-back.ts";
import { printJson } from "../output.ts";

export function registerCopyback(program: Command): void {
  program
    .command("copyback")
    .description("copy folders or items from a restored copy back into the original account (skip or replace what it already has)")
    .requiredOption("-s, --server <name>", "mailbox server")
    .requiredOption("--from <email>", "the restored copy, e.g. restore_alice@example.com")
    .requiredOption("--to <email>", "the account to copy into")
    .option("--folder <paths...>", "folders with their subfolders, e.g. /Inbox/Projects")
    .option("--item <ids...>", "message or contact ids in the copy")
    .option("--replace", "replace what the account already has at the same place (default: skip it)")
    .option("--json", "print JSON")
    .action(async (opts: { server: string; from: string; to: string; folder?: string[]; item?: string[]; replace?: boolean; json?: boolean }) => {
      const result = await copyBack({
        server: opts.server,
        from: opts.from,
        to: opts.to,
        folders: opts.folder,
        itemIds: opts.item?.map(Number),
        onConflict: opts.replace ? "replace" : "skip",
      });
      if (opts.json) return printJson(result);
      console.log(`copied ${result.copied}, skipped ${result.skipped}, replaced ${result.replaced}; folders created: ${result.foldersCreated.join(", ") || "none"}`);
      for (const p of result.problems) console.log(`  problem: ${p}`);
      if (result.problems.length) process.exitCode = 1;
    });
}
