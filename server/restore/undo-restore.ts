/**
 * Undo of an in-place restore: every mailbox it reloaded goes back to the state just before its
 * reload. The redo holds that state up to the account's `RestoreMailbox` record, so the undo is an
 * ordinary in-place restore whose plan ends at that record (one point per account: a run reloads
 * its accounts one after another, and mail to the others goes on meanwhile).
 *
 * The plan is shown first (`restore --undo <label> --plan`); changes an account received after the
 * restore are undone too, and the plan says so. After an in-place restore ends, the sessions its
 * undo reads are leased for the server's `undoLeaseDays` (retention keeps them and what follows).
 */
import { prisma } from "../db/console-db.ts";
import { leaseSessions } from "../backup/session-leases.ts";
import { getServer } from "../directory/list-servers.ts";
import { InvalidInputError } from "../errors.ts";
import { openMailstore } from "../mailstore/mailstore.ts";
import { readRedo } from "../redo/read-redo.ts";
import { RestoreRunNotFoundError } from "./get-restore-run.ts";
import { loadPlanInputs } from "./load-plan-inputs.ts";
import { planRestore, planSessions, RestorePlanError, type RestorePlan, type RestoreRequest } from "./plan-restore.ts";
import type { AccountRestoreResult } from "./restore-account.ts";
import { queueRestore, RestoreRefusedError, type SubmittedRestore } from "./submit-restore.ts";

interface StoredRun {
  label: string;
  server: string;
  status: string;
  startedAt: Date | null;
  createdAt: Date;
  plan: unknown;
  result: unknown;
}

/** The accounts a finished run reloaded in place, each with the sequence number of its reload. */
async function reloads(run: StoredRun, restored?: AccountRestoreResult[]): Promise<{ accountId: string; email: string; markerSeq: number }[]> {
  const { plan } = run.plan as { plan: RestorePlan };
  const inPlace = new Set(plan.accounts.filter((a) => a.target.mode === "in-place").map((a) => a.accountId));
  const done = (restored ?? ((run.result ?? {}) as { restored?: AccountRestoreResult[] }).restored ?? []).filter((r) => inPlace.has(r.accountId));
  const missing = done.filter((r) => r.markerSeq === undefined);
  if (missing.length) {
    // Runs from before results named the record: it is read back from the redo.
    const store = await openMailstore(run.server);
    for await (const r of readRedo(store, { ops: ["RestoreMailbox"], fromTime: run.startedAt ?? run.createdAt })) {
      const m = missing.find((d) => r.payload.run === run.label && d.accountId === r.accountId);
      if (m) m.markerSeq = r.seq;
    }
  }
  return done.map((r) => ({ accountId: r.accountId, email: r.target, markerSeq: r.markerSeq }));
}

/** The plan that takes every account `run` reloaded in place back to just before its reload. */
async function planUndo(run: StoredRun, restored?: AccountRestoreResult[]): Promise<{ plan: RestorePlan; request: RestoreRequest }> {
  const stored = run.plan as { plan?: RestorePlan };
  if (!stored.plan) throw new InvalidInputError(`${run.label} has no stored plan to undo`);
  if (stored.plan.accounts.every((a) => a.target.mode === "copy")) {
    throw new InvalidInputError(`${run.label} restored into copies and changed no mailbox: remove the copies instead (Accounts, or the copy's page)`);
  }
  const accounts = await reloads(run, restored);
  if (accounts.length === 0) throw new InvalidInputError(`${run.label} reloaded no mailbox in place: there is nothing to undo`);
  const unknown = accounts.find((a) => a.markerSeq === undefined);
  if (unknown) throw new InvalidInputError(`the redo no longer holds ${run.label}'s reload of ${unknown.email}: restore it with --restoreToTime instead`);

  // The point is the run's start for finding fulls and creations; each account's plan ends at its record.
  const { inputs } = await loadPlanInputs(run.server, accounts.map((a) => a.accountId), { restoreToTime: run.startedAt ?? run.createdAt });
  const reasons: string[] = [];
  const plans: RestorePlan[] = [];
  for (const a of accounts) {
    try {
      // Through the record before the reload: replay ends at the marker without crossing it, and
      // the follow-up full taken after the restore (its snapshot includes the reload) is not used.
      plans.push(planRestore(inputs, { server: run.server, accounts: [a.accountId], restoreToRedoSeq: a.markerSeq - 1 }));
    } catch (error) {
      if (!(error instanceof RestorePlanError)) throw error;
      reasons.push(...error.reasons.map((r) => `${a.email}: ${r}`));
    }
  }
  if (reasons.length) throw new RestoreRefusedError(reasons);

  // A mailbox's newest change is its row's last_redo_seq: past its reload, it changed since.
  const store = await openMailstore(run.server);
  const { rows: boxes } = await store.pool.query<{ account_id: string; last_redo_seq: string }>(
    "SELECT account_id, last_redo_seq FROM mailstore.mailbox WHERE account_id = ANY($1::uuid[])",
    [accounts.map((a) => a.accountId)],
  );
  const changedSince = accounts.filter((a) => boxes.some((b) => b.account_id === a.accountId && Number(b.last_redo_seq) > a.markerSeq)).map((a) => a.email);

  const merged: RestorePlan = {
    server: run.server,
    point: { description: `just before ${run.label} reloaded each mailbox (its RestoreMailbox record)`, seq: null, time: null },
    accounts: plans.flatMap((p) => p.accounts),
    skipped: plans.flatMap((p) => p.skipped),
    options: [{ name: `--undo ${run.label}`, effect: "each mailbox goes back, in place, to the state it had just before this restore reloaded it" }, ...plans[0]!.options],
    warnings: [...new Set(plans.flatMap((p) => p.warnings))],
  };
  if (changedSince.length) merged.warnings.push(`changed since the restore and undone with it (mail received after the restore is lost): ${changedSince.slice(0, 5).join(", ")}${changedSince.length > 5 ? ` and ${changedSince.length - 5} more` : ""}`);
  const request: RestoreRequest = { server: run.server, accounts: merged.accounts.map((a) => a.accountId), continueOnError: merged.accounts.length > 1 };
  return { plan: merged, request };
}

async function findRun(label: string, server?: string): Promise<StoredRun> {
  const run = await prisma().restoreRun.findUnique({ where: { label } });
  if (!run) throw new RestoreRunNotFoundError(label);
  if (server !== undefined && run.server !== server) throw new InvalidInputError(`${label} restored on ${run.server}, not ${server}`);
  if (!["completed", "partial"].includes(run.status)) throw new InvalidInputError(`${label} is ${run.status}: only a restore that finished (completed or partial) can be undone`);
  return run;
}

/** `restore --undo <label> [--plan]`: the plan, or the undo queued as a restore run of its own. */
export async function undoRestore(input: { label: string; server?: string; dryRun?: boolean; requestedBy: string }): Promise<{ dryRun: true; plan: RestorePlan } | ({ dryRun: false } & SubmittedRestore)> {
  const run = await findRun(input.label, input.server);
  const { plan, request } = await planUndo(run);
  if (input.dryRun) return { dryRun: true, plan };
  return queueRestore(plan, request, input.requestedBy, { undoOf: run.label });
}

/** How long an undo lease waits for a running prune. */
const UNDO_LEASE_PRUNE_WAIT_MS = 10 * 60_000;

/**
 * After an in-place restore ends: the sessions its undo would read are leased for the server's
 * `undoLeaseDays`, so retention keeps them (and every later one) that long. Returns when the lease
 * ends, or why none was taken (best effort: the restore itself has succeeded either way).
 */
export async function leaseForUndo(runId: number, restored: AccountRestoreResult[]): Promise<string> {
  const run = await prisma().restoreRun.findUniqueOrThrow({ where: { id: runId } });
  const server = await getServer(run.server);
  const days = server.settings.undoLeaseDays;
  if (days === 0) return "no undo lease (undoLeaseDays=0)";
  try {
    const { plan } = await planUndo(run, restored);
    const labels = [...new Set(plan.accounts.flatMap((a) => planSessions(a)))];
    // On the worker, after the restore: nobody waits on this, so a running prune is waited out.
    const { leased, missing, expiresAt } = await leaseSessions(run.server, labels, `undo:${run.label}`, `${Number(days)} days`, {
      pruneWaitMs: UNDO_LEASE_PRUNE_WAIT_MS,
      advice: "the undo lease was not taken (waited 10 minutes); the undo may not find the sessions it reads",
    });
    if (missing.length) return `no undo lease: session(s) ${missing.join(", ")} were removed meanwhile`;
    return expiresAt ? `undo possible until ${expiresAt.toISOString()} (${leased.length} session(s) kept)` : "undo needs no backup session (redo alone)";
  } catch (error) {
    return `no undo lease: ${(error as Error).message}`;
  }
}
