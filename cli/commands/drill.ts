import type { Command } from "commander";
import { InvalidInputError } from "../../server/errors.ts";
import { getDrill, listDrills, submitDrill, type DrillView } from "../../server/drill/submit-drill.ts";
import { wholeNumber } from "../../server/validation/whole-number.ts";
import { printJson, table } from "../output.ts";

interface Options {
  server: string;
  accounts?: string;
  account?: string[];
  at?: string;
  wait?: boolean;
  list?: boolean;
  json?: boolean;
}

const ENDED = ["passed", "failed", "error", "interrupted"];

function printDrill(d: DrillView): void {
  console.log(`${d.label} ${d.status}${d.summary ? `: ${d.summary}` : ""}`);
  for (const e of d.evidence) {
    const how = e.plan.full ? `${e.plan.full}${e.plan.redoSessions.length ? ` + ${e.plan.redoSessions.length} session(s)` : ""}` : e.plan.fromCreate ? `redo from creation ${e.plan.fromCreate}` : "-";
    const redo = [e.plan.archive && "archive", e.plan.currentLog && "current log"].filter(Boolean).join(" + ");
    console.log(`\n  ${e.email} at redo ${e.point.seq} (${e.at}): ${e.identical ? "IDENTICAL" : "DIFFERENT"}`);
    if (e.note) console.log(`    note      ${e.note}`);
    console.log(`    restored  from ${how}${redo ? ` + ${redo}` : ""}, ${e.items} items, ${(e.bytes / 1048576).toFixed(2)} MiB in ${e.restoreMs} ms; bodies read back in ${e.readBackMs ?? 0} ms`);
    if (e.expected) console.log(`    expected  ${e.expected}`);
    if (e.error) console.log(`    error     ${e.error}`);
    for (const diff of e.differences) console.log(`    diff      ${diff}`);
  }
  if (d.rtoSecondsPerMib !== null) console.log(`\n  RTO ${d.rtoSecondsPerMib.toFixed(2)} s per MiB`);
}

export function registerDrill(program: Command, requestedBy: string): void {
  program
    .command("drill")
    .description("restore drill: restore accounts into scratch mailboxes at a point and prove them identical to what they must be")
    .requiredOption("-s, --server <name>", "mailbox server")
    .option("--accounts <n>", "how many accounts, chosen at random (weighted toward large and recently changed mailboxes); default 3")
    .option("-a, --account <names...>", "these accounts instead, by any name they had")
    .option("--at <point>", "random: a random point in each account's recoverable window (default); latest: the newest change")
    .option("--wait", "wait for the drill and exit non-zero unless it passed")
    .option("--list", "list the server's recent drills")
    .option("--json", "print JSON")
    .action(async (opts: Options) => {
      if (opts.list) {
        const drills = await listDrills({ server: opts.server, limit: 20 });
        if (opts.json) return printJson(drills);
        if (!drills.length) return console.log(`no restore drills on ${opts.server} yet: run one with ./bin/mailvault drill -s ${opts.server} --wait`);
        return console.log(table(["DRILL", "STATUS", "ACCOUNTS", "RTO S/MIB", "SUMMARY"], drills.map((d) => [d.label, d.status, String(d.evidence.length), d.rtoSecondsPerMib?.toFixed(2) ?? "-", (d.summary ?? "").slice(0, 100)])));
      }
      if (opts.at !== undefined && !["latest", "random"].includes(opts.at)) throw new InvalidInputError(`--at is latest or random, not ${opts.at}`);
      if (opts.accounts !== undefined && opts.account) throw new InvalidInputError("choose --accounts N (at random) or -a <names> (these), not both");
      const accounts = opts.account ?? (opts.accounts === undefined ? undefined : wholeNumber("--accounts", { min: 1, max: 20 }).parse(opts.accounts));
      const submitted = await submitDrill({ server: opts.server, accounts, at: opts.at as "latest" | "random" | undefined, requestedBy });
      if (!opts.wait) return opts.json ? printJson(submitted) : console.log(`queued ${submitted.label}`);
      for (;;) {
        const drill = await getDrill(submitted.label);
        if (ENDED.includes(drill.status)) {
          if (opts.json) printJson(drill);
          else printDrill(drill);
          if (drill.status !== "passed") process.exitCode = 1;
          return;
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    });
}
