import type { Command } from "commander";
import { playRedo } from "../../server/restore/play-redo.ts";
import { printJson } from "../output.ts";

export function registerPlayredo(program: Command): void {
  program
    .command("playredo")
    .description("replay a mailbox's redo (archive and current log) onto it, between two points; what it already has is passed over (--from-create: rebuild it from its creation)")
    .requiredOption("-s, --server <name>", "mailbox server")
    .requiredOption("--mailbox <id-or-email>", "the mailbox")
    .option("--fromTime <time>", "records at or after this time")
    .option("--toTime <time>", "records at or before this time")
    .option("--fromSeq <n>", "records from this sequence number")
    .option("--toSeq <n>", "records up to this sequence number")
    .option("--stopOnError", "stop at a gap instead of replaying around it")
    .option("--from-create", "rebuild the mailbox: clear its items and replay its whole history from its creation (backup sessions, archive, current log)")
    .option("--json", "print JSON")
    .action(async (opts: { server: string; mailbox: string; fromTime?: string; toTime?: string; fromSeq?: string; toSeq?: string; stopOnError?: boolean; fromCreate?: boolean; json?: boolean }) => {
      const result = await playRedo({ ...opts, stopOnError: opts.stopOnError ?? false, fromCreate: opts.fromCreate ?? false });
      if (opts.json) return printJson(result);
      console.log(`${result.email}: ${result.applied} record(s) replayed, ${result.skipped} skipped, now at change ${result.changeNumber}, redo ${result.lastRedoSeq}`);
      for (const g of result.gaps) console.log(`  gap: change numbers ${g.from} through ${g.to} missing`);
    });
}
