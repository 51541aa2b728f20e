import type { Command } from "commander";
import { prisma } from "../../server/db/console-db.ts";
import { InvalidInputError } from "../../server/errors.ts";
import type { RestorePlan } from "../../server/restore/plan-restore.ts";
import { restoreServer } from "../../server/restore/restore-server.ts";
import { submitRestore } from "../../server/restore/submit-restore.ts";
import { undoRestore } from "../../server/restore/undo-restore.ts";
import { printJson } from "../output.ts";

interface Options {
  server: string;
  account?: string[];
  label?: string;
  restoreToTime?: string;
  restoreToRedoSeq?: string;
  restoreToIncrLabel?: string;
  br?: boolean;
  rf?: boolean;
  ca?: boolean;
  pre?: string;
  skipDeletes?: boolean;
  ignoreRedoErrors?: boolean;
  continue?: boolean;
  skipDeletedAccounts?: boolean;
  excludeBlobs?: boolean;
  plan?: boolean;
  wait?: boolean;
  json?: boolean;
  group?: string;
  offline?: boolean;
  undo?: string;
}

export function printPlan(plan: RestorePlan): void {
  console.log(`restore on ${plan.server} to ${plan.point.description}${plan.point.seq !== null ? `, redo ${plan.point.seq}` : ""}${plan.point.time ? `, ${plan.point.time}` : ""}`);
  for (const a of plan.accounts) {
    console.log(`\n${a.requested} -> ${a.target.email} (${a.target.mode})`);
    console.log(`  account   ${a.accountId}, ${a.chosenBecause}${a.deleted ? ", deleted" : ""}`);
    if (a.snapshot) console.log(`  full      ${a.snapshot.session} (change ${a.snapshot.changeNumber}, redo ${a.snapshot.lastRedoSeq}, taken ${a.snapshot.snapshotAt})`);
    else if (a.fromCreate) console.log(`  full      none: rebuilt from redo alone, from its creation (redo ${a.fromCreate.seq}, ${a.fromCreate.at})`);
    for (const s of a.redo.sessions) console.log(`  redo      ${s.label}: ${s.fromSeq}..${s.throughSeq}`);
    if (a.redo.archive) console.log(`  redo      server archive after ${a.redo.archive.afterSeq}`);
    if (a.redo.currentLog) console.log("  redo      server current log");
    if (a.gaps.length) console.log(`  gaps      ${a.gaps.map((g) => `${g.from}..${g.to}`).join(", ")}`);
  }
  for (const s of plan.skipped) console.log(`\nskipped ${s.requested}: ${s.reason}`);
  console.log("");
  for (const o of plan.options) console.log(`option  ${o.name}: ${o.effect}`);
  for (const w of plan.warnings) console.log(`warning ${w}`);
}

export function registerRestore(program: Command, requestedBy: string): void {
  program
    .command("restore")
    .description("restore accounts to a point in time, in place or into prefixed copies (zmrestore's options)")
    .requiredOption("-s, --server <name>", "mailbox server")
    .option("-a, --account <names...>", "accounts by any name they had, or all")
    .option("--label <label>", "use this full backup (also -lb)")
    .option("--restoreToTime <time>", "restore to this time (2010/11/19 14:06:22, 20101119.140622 or ISO 8601; UTC)")
    .option("--restoreToRedoSeq <n>", "restore through this redo sequence number")
    .option("--restoreToIncrLabel <label>", "restore to the end of this incremental session")
    .option("--br", "replay only redo held by backups (also -br)")
    .option("--rf", "replay no redo: the full backup as it is (also -rf)")
    .option("--ca", "restore into a new account (also -ca); needs -pre")
    .option("--pre <prefix>", "prefix of the new account's name (also -pre), e.g. restore_")
    .option("--skipDeletes", "do not replay deletions, mailbox deletion, folder emptying, purges or moves into Trash")
    .option("--ignoreRedoErrors", "replay around a gap in the redo and report it")
    .option("-c, --continue", "go on with the next account after an error; list failures at the end")
    .option("--skipDeletedAccounts", "leave out deleted accounts")
    .option("--exclude-blobs", "do not copy message bodies from the backup (they are known to exist)")
    .option("--group <n>", "disaster recovery: rebuild every mailbox of mailbox group N in place, to the last committed change")
    .option("--offline", "whole-server recovery (with -s and no -a): rebuild an empty mailstore from the directory in the newest session, the backups and the archive")
    .option("--undo <restore label>", "undo an in-place restore: each mailbox it reloaded goes back to the state just before")
    .option("--plan", "print the plan and stop: nothing is changed")
    .option("--wait", "wait for the restore and exit non-zero unless every account was restored")
    .option("--json", "print JSON")
    .action(async (opts: Options) => {
      if (opts.undo !== undefined) {
        const others = Object.entries(opts).filter(([k, v]) => v !== undefined && !["server", "undo", "plan", "wait", "json"].includes(k)).map(([k]) => k);
        if (others.length) throw new InvalidInputError(`--undo takes its accounts and points from the restore it undoes: leave out --${others[0]}`);
        const undo = await undoRestore({ label: opts.undo, server: opts.server, dryRun: opts.plan, requestedBy });
        if (undo.dryRun) return opts.json ? printJson(undo.plan) : printPlan(undo.plan);
        if (!opts.json) printPlan(undo.plan);
        if (!opts.wait) return opts.json ? printJson({ label: undo.label, jobId: undo.jobId }) : console.log(`\nqueued ${undo.label}`);
        return waitForRun(undo.runId, opts.json ?? false);
      }
      if (opts.offline) {
        if (opts.account || opts.group) throw new InvalidInputError("--offline rebuilds the whole server: leave out -a and --group");
        const rebuilt = await restoreServer({ server: opts.server, requestedBy, dryRun: opts.plan });
        console.log(`directory: ${rebuilt.directoryAccountsRestored} account(s) brought back; new redo starts at ${rebuilt.sequenceFrom}`);
        if (rebuilt.shippedSegmentsFetched) console.log(`shipped redo: ${rebuilt.shippedSegmentsFetched} segment(s) fetched from the target`);
        console.log(`point reached: redo ${rebuilt.pointReached.seq}${rebuilt.pointReached.at ? ` (${rebuilt.pointReached.at.slice(0, 19).replace("T", " ")} UTC)` : ""}`);
        if (rebuilt.restore.dryRun) return printPlan(rebuilt.restore.plan);
        printPlan(rebuilt.restore.plan);
        if (!opts.wait) return console.log(`\nqueued ${rebuilt.restore.label}`);
        return waitForRun(rebuilt.restore.runId, opts.json ?? false);
      }
      if (!opts.account?.length && opts.group === undefined) throw new InvalidInputError("name the accounts to restore: -a <names...> or -a all (or --group N, or --offline)");
      const result = await submitRestore({
        server: opts.server,
        accounts: opts.account === undefined ? undefined : opts.account.length === 1 && opts.account[0] === "all" ? "all" : opts.account,
        group: opts.group === undefined ? undefined : Number(opts.group),
        restoreToTime: opts.restoreToTime,
        restoreToRedoSeq: opts.restoreToRedoSeq === undefined ? undefined : Number(opts.restoreToRedoSeq),
        restoreToIncrLabel: opts.restoreToIncrLabel,
        label: opts.label,
        copy: opts.ca ?? false,
        prefix: opts.pre,
        backupOnlyRedo: opts.br ?? false,
        noRedo: opts.rf ?? false,
        skipDeletes: opts.skipDeletes ?? false,
        ignoreRedoErrors: opts.ignoreRedoErrors ?? false,
        continueOnError: opts.continue ?? false,
        skipDeletedAccounts: opts.skipDeletedAccounts ?? false,
        excludeBlobs: opts.excludeBlobs ?? false,
        dryRun: opts.plan ?? false,
        requestedBy,
      });
      if (result.dryRun) return opts.json ? printJson(result.plan) : printPlan(result.plan);
      if (!opts.json) printPlan(result.plan);
      if (!opts.wait) return opts.json ? printJson({ label: result.label, jobId: result.jobId }) : console.log(`\nqueued ${result.label}`);
      await waitForRun(result.runId, opts.json ?? false);
    });
}

/** Follows a run to its end; exits non-zero unless every account was restored. The last line is its summary. */
async function waitForRun(runId: number, json: boolean): Promise<void> {
  for (;;) {
    const run = await prisma().restoreRun.findUniqueOrThrow({ where: { id: runId } });
    if (!["queued", "running", "failing"].includes(run.status)) {
      if (json) printJson(run);
      else {
        const outcome = run.result as { restored?: { target: string; replayed: number }[]; failures?: string[]; fullBackup?: string; summary?: string } | null;
        console.log(`\n${run.label} ${run.status}`);
        for (const r of outcome?.restored ?? []) console.log(`  restored ${r.target} (${r.replayed} redo records replayed)`);
        for (const f of outcome?.failures ?? []) console.log(`  FAILED ${f}`);
        if (outcome?.fullBackup) console.log(`  full backup of the restored accounts: ${outcome.fullBackup}`);
        console.log(outcome?.summary ?? run.error ?? run.status);
      }
      if (run.status !== "completed") process.exitCode = 1;
      return;
    }
    if (process.stderr.isTTY) process.stderr.write(`\r${run.status} ${run.accountsDone}/${run.accountsTotal} ${run.currentAccount ?? ""}`.padEnd(80));
    await new Promise((r) => setTimeout(r, 500));
  }
}
