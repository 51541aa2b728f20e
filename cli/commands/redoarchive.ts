import type { Command } from "commander";
import { getServer } from "../../server/directory/list-servers.ts";
import { runJob } from "../../server/jobs/run-job.ts";
import type { ArchiveResult } from "../../server/redo/archive-redo.ts";
import type { ShipResult } from "../../server/redo/ship-redo.ts";
import { printJson } from "../output.ts";

export function registerRedoarchive(program: Command): void {
  program
    .command("redoarchive")
    .description("archive a server's committed redo log now (runs as a job on the server's worker)")
    .requiredOption("-s, --server <name>", "mailbox server")
    .option("--json", "print JSON")
    .action(async (opts: { server: string; json?: boolean }) => {
      const server = await getServer(opts.server);
      const { result } = await runJob(server.name, "redo.archive", { force: true }, 300_000);
      const r = result as ArchiveResult & { shipped?: (ShipResult & { inProgress?: boolean })[] };
      if (opts.json) return printJson(r);
      console.log(`${r.status}: ${r.segments.length} segment(s), ${r.records} records, ${r.voids} rolled back, ${r.bytes} bytes; archived through ${r.lastArchivedSeq}`);
      for (const name of r.segments) console.log(`  ${name}`);
      for (const t of r.shipped ?? []) {
        const sent = `${t.shipped.length} segment(s) sent, holds through ${t.lastShippedSeq}`;
        if (t.inProgress) console.log(`shipping to ${t.target}: still under way (rpo -s ${opts.server} shows when it lands)`);
        else console.log(`shipped to ${t.target}: ${t.error ? `failed (${t.error}); ${sent}` : t.waiting ? `waiting to retry after a failure; ${sent}` : sent}`);
      }
    });
}
