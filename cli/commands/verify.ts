import type { Command } from "commander";
import type { SessionVerification } from "../../server/backup/verify-session.ts";
import { getSession } from "../../server/backup/query-sessions.ts";
import { getServer } from "../../server/directory/list-servers.ts";
import { InvalidInputError } from "../../server/errors.ts";
import { runJob } from "../../server/jobs/run-job.ts";
import { wholeNumber } from "../../server/validation/whole-number.ts";
import { printJson } from "../output.ts";

export function registerVerify(program: Command): void {
  program
    .command("verify")
    .description("re-read backup sessions: every checksum, every blob, redo continuity; exit 1 on damage")
    .requiredOption("-s, --server <name>", "mailbox server")
    .option("--label <label>", "one session (also -lb)")
    .option("--all", "every published session, and every pack of the repository")
    .option("--newest <n>", "the newest n published sessions")
    .option("--json", "print JSON")
    .action(async (opts: { server: string; label?: string; all?: boolean; newest?: string; json?: boolean }) => {
      if ([Boolean(opts.label), Boolean(opts.all), opts.newest !== undefined].filter(Boolean).length !== 1) throw new InvalidInputError("verify one session (-lb <label>), the newest n (--newest n) or all of them (--all)");
      const newest = opts.newest === undefined ? undefined : wholeNumber("--newest", { max: 1000 }).parse(opts.newest);
      const server = await getServer(opts.server);
      // A label the catalog does not know is the caller's mistake (exit 1), not a failed job.
      if (opts.label) await getSession(server.name, opts.label);
      const { result } = await runJob(server.name, "backup.verify", { label: opts.label, all: opts.all ?? false, newest }, 3_600_000);
      const reports = result as SessionVerification[];
      if (opts.json) printJson(reports);
      else
        for (const r of reports) {
          console.log(
            r.label === "repository"
              ? `repository: ${r.ok ? "ok" : "DAMAGED"} (${r.files} packs, ${r.blobs} blobs)`
              : r.label === "shipped redo"
                ? `shipped redo: ${r.ok ? "ok" : "DAMAGED"} (${r.segments} segments)`
                : `${r.label}: ${r.ok ? "ok" : "DAMAGED"} (${r.files} files, ${r.blobs} blob references, ${r.segments} redo segments)`,
          );
          for (const p of r.problems) console.log(`  ${p.kind} ${p.path}: ${p.message}`);
        }
      if (reports.some((r) => !r.ok)) process.exitCode = 1;
    });
}
