import type { Command } from "commander";
import { runCopy } from "../../server/backup/copy-sessions.ts";
import { printJson } from "../output.ts";

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

export function registerCopy(program: Command): void {
  program
    .command("copy")
    .description("copy published sessions to one of the server's copy targets (only the packs it lacks), verified there; exit 1 if one fails")
    .requiredOption("-s, --server <name>", "mailbox server")
    .requiredOption("--to <target>", "the copy target's name (see `targets -s <server>`)")
    .option("--label <label>", "one session (also -lb)")
    .option("--all", "every published session the target lacks")
    .option("--json", "print JSON")
    .action(async (opts: { server: string; to: string; label?: string; all?: boolean; json?: boolean }) => {
      const reports = await runCopy(opts.server, { to: opts.to, label: opts.label, all: opts.all });
      if (opts.json) printJson(reports);
      else {
        for (const r of reports) {
          if (r.status === "present") console.log(`${r.label}: already on ${opts.to}`);
          else {
            console.log(`${r.label}: ${r.status === "copied" ? "copied, verified" : "FAILED verification, not published"} (${r.packsSent} pack(s) sent, ${r.packsPresent} already there, ${r.files} file(s), ${mib(r.bytesSent)})`);
            for (const p of r.problems) console.log(`  ${p.kind} ${p.path}: ${p.message}`);
          }
        }
        if (!reports.length) console.log(`nothing to copy: ${opts.server} has no published session`);
      }
      if (reports.some((r) => r.status === "failed")) process.exitCode = 1;
    });
}
