import type { Command } from "commander";
import { openMailstore } from "../../server/mailstore/mailstore.ts";
import { describeRecord } from "../../server/redo/describe-record.ts";
import { redoQueryInput, toFilter } from "../../server/redo/query-redo.ts";
import { readRedo } from "../../server/redo/read-redo.ts";
import { verifyRedo } from "../../server/redo/verify-redo.ts";
import { printJson } from "../output.ts";

interface Options {
  server: string;
  account?: string;
  mailbox?: string;
  op?: string;
  from?: string;
  to?: string;
  fromSeq?: string;
  toSeq?: string;
  quiet?: boolean;
  showBlob?: boolean;
  json?: boolean;
}

export function registerRedodump(program: Command): void {
  program
    .command("redodump")
    .description("print a server's redo records (archive, then current log), or verify them with --quiet")
    .requiredOption("-s, --server <name>", "mailbox server")
    .option("-a, --account <name>", "only this account: any email it ever had, or its id")
    .option("-m, --mailbox <id>", "only this mailbox id")
    .option("--op <ops>", "only these operations, comma-separated (e.g. DeleteItems,EmptyFolder)")
    .option("--from <time>", "records at or after this time (2010/11/19 14:06:22, 20101119.140622 or ISO 8601; UTC)")
    .option("--to <time>", "records at or before this time")
    .option("--from-seq <n>", "records from this sequence number")
    .option("--to-seq <n>", "records up to this sequence number")
    .option("-q, --quiet", "print no records: verify checksums and sequence continuity, exit 1 on damage")
    .option("--show-blob", "print delivered message bytes after each delivery")
    .option("--json", "one JSON object per record (or the verification report)")
    .action(async (opts: Options) => {
      const store = await openMailstore(opts.server);
      if (opts.quiet) {
        const report = await verifyRedo(store);
        if (opts.json) printJson(report);
        else {
          const range = report.firstSeq === null ? "no records" : `sequence ${report.firstSeq} to ${report.lastSeq}`;
          console.log(`${opts.server}: ${report.segments} segment(s) and the current log, ${range}: ${report.records + report.currentLog.records} records, ${report.voids} rolled back`);
          console.log(`current log: ${report.currentLog.records} records${report.currentLog.pending ? `, ${report.currentLog.pending} numbers pending (transactions still running)` : ""}`);
          for (const p of report.problems) console.log(`PROBLEM ${p.kind}: ${p.message}`);
          console.log(report.ok ? "every sequence number is accounted for exactly once; no damage found" : `${report.problems.length} problem(s) found`);
        }
        if (!report.ok) process.exitCode = 1;
        return;
      }
      const input = redoQueryInput.parse({ account: opts.account, mailbox: opts.mailbox, op: opts.op, from: opts.from, to: opts.to, fromSeq: opts.fromSeq, toSeq: opts.toSeq });
      const { filter } = await toFilter(input);
      for await (const r of readRedo(store, filter, { withBlobs: opts.showBlob })) {
        if (opts.json) {
          const { blob, ...rest } = r;
          console.log(JSON.stringify({ ...rest, ...(opts.showBlob && blob ? { blob: blob.toString("base64") } : {}) }));
          continue;
        }
        console.log(`${r.seq}\t${r.at}\tmbox ${r.mailboxId}\tcn ${r.changeNumber}\t${r.op}\t${describeRecord(r)}`);
        if (opts.showBlob && r.op === "DeliverMessage") {
          if (r.blob) process.stdout.write(`${r.blob.toString("utf8")}\n`);
          else console.log(`(message bytes are in record ${String(r.payload.blobSeq)})`);
        }
      }
    });
}
