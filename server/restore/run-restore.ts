/**
 * A restore run in the steps its BullMQ flow runs: start (mark running, say how many accounts),
 * `restore.account` children (one account each, or a batch of accounts restored in place
 * together), and `restore.finish` once they are done. Without -c the first failure stops the
 * accounts not yet started; with -c every account is tried and the failures are listed at the
 * end. An abort (backupabort -r) stops the run after the account or batch in progress (a batch
 * cut by the abort rolls back whole, its accounts reported as skipped). Afterwards every account not restored is accounted for (in place, a mailbox left
 * broken puts its account in maintenance), the sessions' leases are released, and a full backup
 * of the restored accounts is queued, so the next restore of them starts from their new state.
 */
import { consolePool, prisma } from "../db/console-db.ts";
import { DatabaseConnectionLostError, isTransientDbError } from "../db/transient-error.ts";
import { SessionNotFoundError } from "../backup/errors.ts";
import { leaseForUndo } from "./undo-restore.ts";
import { submitBackup } from "../backup/submit-backup.ts";
import { enqueueJob } from "../jobs/queues.ts";
import { openMailstore } from "../mailstore/mailstore.ts";
import type { RestorePlan, RestoreRequest } from "./plan-restore.ts";
import { settleEarlierAttempt } from "./earlier-attempt.ts";
import { describeFollowUp, refusedFollowUp, type FollowUpState } from "./follow-up-backup.ts";
import { restoreAccount, restoreAccountsTogether, type AccountRestoreResult } from "./restore-account.ts";
import { restoreSummary, secureUnrestored } from "./secure-unrestored.ts";

interface StoredPlan {
  plan: RestorePlan;
  request: RestoreRequest;
}

async function loadRun(runId: number) {
  const run = await prisma().restoreRun.findUniqueOrThrow({ where: { id: runId } });
  return { run, ...(run.plan as unknown as StoredPlan) };
}

/**
 * The run's state without its plan, and the plan from this process's cache: a run's plan never
 * changes once stored, and reading the whole of it (every account's) in each of a server
 * rebuild's hundreds of account jobs cost each of them more than its own restore.
 */
const PLANS_KEPT = 8;
/** By run id and creation time: a database recreated under a long-lived worker reuses ids. */
const plans = new Map<string, StoredPlan>();

async function loadRunForAccount(runId: number) {
  // Plain queries, not Prisma's: a server rebuild makes these in each of hundreds of account
  // jobs, and Prisma's engine cost the worker's main thread more than the query itself.
  const { rows } = await consolePool().query<{ label: string; status: string; abort_requested: boolean; started_at: Date | null; created_at: Date }>(
    "SELECT label, status, abort_requested, started_at, created_at FROM restore_run WHERE id = $1",
    [runId],
  );
  const row = rows[0];
  if (!row) throw new Error(`restore run ${runId} is gone`);
  const run = { label: row.label, status: row.status, abortRequested: row.abort_requested, startedAt: row.started_at, createdAt: row.created_at };
  const key = `${runId}@${run.createdAt.toISOString()}`;
  let stored = plans.get(key);
  if (!stored) {
    const { rows: planned } = await consolePool().query<{ plan: StoredPlan }>("SELECT plan FROM restore_run WHERE id = $1", [runId]);
    stored = planned[0]!.plan;
    plans.set(key, stored);
    while (plans.size > PLANS_KEPT) plans.delete(plans.keys().next().value!);
  }
  return { run, ...stored };
}

export async function startRestoreRun(runId: number): Promise<{ accounts: number; jobs: { index: number; count: number }[] } | { skipped: string }> {
  const { count } = await prisma().restoreRun.updateMany({ where: { id: runId, status: "queued", abortRequested: false }, data: { status: "running", startedAt: new Date() } });
  if (count === 0) return { skipped: "the run is no longer queued" };
  const { plan } = await loadRun(runId);
  return { accounts: plan.accounts.length, jobs: accountJobs(plan) };
}

export type AccountOutcome = AccountRestoreResult | { requested: string; error: string } | { requested: string; skipped: string };

/** The most accounts one job restores together. */
const BATCH_MAX = 16;
/** Batches are cut so that a run spreads over at least this many jobs (the workers' concurrency across hosts). */
const BATCHES_MIN = 8;
/**
 * The most snapshot rows one batch loads: large mailboxes gain nothing from sharing a job, and a
 * batch holds every one of its mailboxes locked (deliveries to them wait) until it commits.
 */
const BATCH_ITEMS = 5_000;

/**
 * The run's account jobs, as runs of consecutive plan indexes. Accounts restored in place (a
 * group or server rebuild, `-a all`) go in batches of up to 16, cut so that the run still makes
 * at least 8 jobs and a batch loads at most 5,000 snapshot rows; every other account (a copy, a
 * drill's scratch mailbox) is a job of its own.
 * The start and the finish of a run both derive the jobs from the plan with this function.
 */
export function accountJobs(plan: Pick<RestorePlan, "accounts">): { index: number; count: number }[] {
  const size = Math.min(BATCH_MAX, Math.max(1, Math.floor(plan.accounts.length / BATCHES_MIN)));
  const jobs: { index: number; count: number; items: number }[] = [];
  plan.accounts.forEach((account, index) => {
    const last = jobs.at(-1);
    const items = account.snapshot?.items ?? 0;
    const joins = account.target.mode === "in-place" && last && plan.accounts[last.index]!.target.mode === "in-place" && last.count < size && last.items + items <= BATCH_ITEMS;
    if (joins) {
      last.count++;
      last.items += items;
    } else jobs.push({ index, count: 1, items });
  });
  return jobs.map(({ index, count }) => ({ index, count }));
}

type LoadedRun = Awaited<ReturnType<typeof loadRunForAccount>>;

/**
 * The accounts of one job of the run: one account, or a batch restored together. When a batch
 * fails, its accounts are restored again one at a time, so that a bad account fails alone, and
 * without -c stops the rest, exactly as it would have on its own. `attempt`: the BullMQ job's
 * failed attempts so far and its maximum, when it may be retried.
 */
export async function restoreRunAccounts(runId: number, job: { index: number; count: number }, attempt?: { made: number; max: number }): Promise<AccountOutcome[]> {
  const indexes = Array.from({ length: job.count }, (_, i) => job.index + i);
  // A retry (its connection was lost) goes one account at a time: each first looks for what an
  // earlier attempt committed, whole batch or part of its fallback.
  const retry = attempt !== undefined && attempt.made > 0;
  if (indexes.length > 1 && !retry) {
    const together = await restoreBatch(await loadRunForAccount(runId), runId, indexes, attempt);
    if (together) return together;
  }
  // One at a time, each with its own outcome (and, without -c, the first failure stopping the rest).
  const outcomes: AccountOutcome[] = [];
  for (const i of indexes) outcomes.push(await restoreOneAccount(await loadRunForAccount(runId), runId, i, attempt));
  return outcomes;
}

/** What the run asks of every account's restore. */
function runOptions({ run, plan, request }: LoadedRun, signal: AbortSignal) {
  return {
    runLabel: run.label,
    server: plan.server,
    skipDeletes: request.skipDeletes ?? false,
    ignoreRedoErrors: request.ignoreRedoErrors ?? false,
    excludeBlobs: request.excludeBlobs ?? false,
    signal,
  };
}

/** A batch restored together: its outcomes, or null when it failed and rolled back (a lost connection with attempts left is rethrown, for BullMQ to retry). */
async function restoreBatch(loaded: LoadedRun, runId: number, indexes: number[], attempt?: { made: number; max: number }): Promise<AccountOutcome[] | null> {
  const { run, plan } = loaded;
  const accounts = indexes.map((i) => plan.accounts[i]!);
  const stopped = run.status !== "running" ? `run is ${run.status}` : run.abortRequested ? "run aborted" : null;
  if (stopped) return accounts.map((a) => ({ requested: a.requested, skipped: stopped }));
  await consolePool().query("UPDATE restore_run SET current_account = $2 WHERE id = $1", [runId, accounts[0]!.target.email]);
  try {
    const restored = await withAbortWatch(runId, (signal) => restoreAccountsTogether({ ...runOptions(loaded, signal), accounts }));
    await consolePool().query("UPDATE restore_run SET accounts_done = accounts_done + $2 WHERE id = $1", [runId, restored.length]);
    return restored;
  } catch (error) {
    if (attempt && attempt.made + 1 < attempt.max && isTransientDbError(error)) throw new DatabaseConnectionLostError(`restoring ${accounts.length} accounts`, error);
    return null;
  }
}

/** Runs `work` with a signal that aborts when the run's abort is requested (checked every second). */
async function withAbortWatch<T>(runId: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const watch = setInterval(() => {
    void consolePool()
      .query<{ abort_requested: boolean }>("SELECT abort_requested FROM restore_run WHERE id = $1", [runId])
      .then(({ rows }) => rows[0]?.abort_requested && controller.abort())
      .catch(() => {});
  }, 1_000);
  try {
    return await work(controller.signal);
  } finally {
    clearInterval(watch);
  }
}

async function restoreOneAccount(loaded: LoadedRun, runId: number, index: number, attempt?: { made: number; max: number }): Promise<AccountOutcome> {
  const { run, plan, request } = loaded;
  const account = plan.accounts[index]!;
  try {
    // A retry after a lost connection: the first attempt may have committed before it was cut
    // off. What committed is reported as restored even if the run was stopped since.
    const earlier = attempt && attempt.made > 0 ? await settleEarlierAttempt(await openMailstore(plan.server), run, account) : null;
    if (!earlier && run.status !== "running") return { requested: account.requested, skipped: `run is ${run.status}` };
    if (!earlier && run.abortRequested) return { requested: account.requested, skipped: "run aborted" };
    if (!earlier) await consolePool().query("UPDATE restore_run SET current_account = $2 WHERE id = $1", [runId, account.target.email]);
    const result = earlier ?? (await withAbortWatch(runId, (signal) => restoreAccount({ ...runOptions(loaded, signal), account })));
    await consolePool().query("UPDATE restore_run SET accounts_done = accounts_done + 1 WHERE id = $1", [runId]);
    return result;
  } catch (error) {
    // A lost database connection rolled the account's mailstore transaction back: while the
    // job has attempts left, BullMQ retries the account from scratch instead of it failing.
    if (attempt && attempt.made + 1 < attempt.max && isTransientDbError(error)) throw new DatabaseConnectionLostError(`restoring ${account.requested}`, error);
    // Without -c, the first failure stops what has not started yet.
    if (!request.continueOnError) await prisma().restoreRun.updateMany({ where: { id: runId, status: "running" }, data: { status: "failing" } });
    return { requested: account.requested, error: (error as Error).message };
  }
}

/** An account job that failed outright (BullMQ gave up on it), by the plan index of its first account. */
export interface LostAccountJob {
  index: number | null;
  reason: string;
}

export async function finishRestoreRun(runId: number, outcomes: AccountOutcome[], lost: LostAccountJob[]): Promise<{ status: string; label: string; summary: string }> {
  const { run, plan } = await loadRun(runId);
  const done = outcomes.filter((o): o is AccountRestoreResult => "mailboxId" in o);
  // A lost job's accounts: those a batch or its one-at-a-time fallback committed before the job
  // died are restored all the same (their `RestoreMailbox` record names this run).
  const jobs = accountJobs(plan);
  const lostAccounts: { index: number; reason: string }[] = [];
  for (const l of lost) {
    if (l.index === null || !plan.accounts[l.index]) continue;
    const job = jobs.find((j) => j.index === l.index) ?? { index: l.index, count: 1 };
    for (let i = job.index; i < job.index + job.count; i++) lostAccounts.push({ index: i, reason: l.reason });
  }
  const lostStore = lostAccounts.length ? await openMailstore(plan.server) : null;
  const stillLost: typeof lostAccounts = [];
  for (const l of lostAccounts) {
    const earlier = await settleEarlierAttempt(lostStore!, run, plan.accounts[l.index]!).catch(() => null);
    if (earlier) done.push(earlier);
    else stillLost.push(l);
  }
  const byName = new Map(plan.accounts.map((a) => [a.requested, a]));
  // Every account that was to be restored and was not, with why: failed, skipped when the run
  // stopped, its job lost, or left out by the plan as impossible to restore.
  const missed: { requested: string; accountId: string; reason: string; inPlace: boolean }[] = [];
  for (const o of outcomes) {
    const a = byName.get(o.requested);
    if (!a || "mailboxId" in o) continue;
    missed.push({ requested: o.requested, accountId: a.accountId, reason: "error" in o ? o.error : o.skipped, inPlace: a.target.mode === "in-place" });
  }
  for (const l of stillLost) {
    const a = plan.accounts[l.index]!;
    missed.push({ requested: a.requested, accountId: a.accountId, reason: `its job failed: ${l.reason}`, inPlace: a.target.mode === "in-place" });
  }
  const copies = Boolean(plan.options.some((o) => o.name.startsWith("-ca")));
  for (const s of plan.skipped) if (s.unrestorable && s.accountId) missed.push({ requested: s.requested, accountId: s.accountId, reason: s.reason, inPlace: !copies });

  // In place, an account not restored keeps its mailbox, or goes into maintenance if that is broken.
  const secured = await secureUnrestored(await openMailstore(plan.server), run.label, missed.filter((m) => m.inPlace));
  const notRestored = missed.map((m) => secured.find((s) => s.accountId === m.accountId) ?? { requested: m.requested, accountId: m.accountId, reason: m.reason, action: "kept" as const });
  const failures = [...outcomes.filter((o): o is { requested: string; error: string } => "error" in o).map((f) => `${f.requested}: ${f.error}`), ...lost.filter((l) => l.index === null || stillLost.some((a) => a.reason === l.reason)).map((l) => l.reason)];
  const skipped = outcomes.filter((o): o is { requested: string; skipped: string } => "skipped" in o);
  const status = run.abortRequested ? "aborted" : notRestored.length ? (done.length ? "partial" : "failed") : "completed";
  const summary = restoreSummary(done.length, notRestored);

  // The restored accounts' next restore should start from their new state: their full backup is
  // queued now, or, while another backup runs, by a job of its own that waits for it.
  let fullBackup: string | null = null;
  if (done.length) {
    const accounts = done.map((d) => d.target);
    const first = await submitBackup({ server: plan.server, type: "full", accounts, requestedBy: `after ${run.label}` }).then(
      (b): FollowUpState => ({ queued: b.label }),
      (error: Error) => refusedFollowUp(error, plan.server),
    );
    fullBackup = describeFollowUp(first);
    if ("waitingFor" in first) {
      await enqueueJob(plan.server, "restore.backup", { runId, accounts }).catch((error: Error) => {
        fullBackup = `not queued: ${error.message}`;
      });
    }
  }

  // In place, the state each reload replaced stays recoverable: the undo's sessions are leased.
  const undo = done.length && plan.accounts.some((a) => a.target.mode === "in-place") ? await leaseForUndo(runId, done) : null;

  await prisma().restoreRun.update({
    where: { id: runId },
    data: {
      status,
      endedAt: new Date(),
      currentAccount: null,
      error: notRestored.length ? summary : null,
      result: JSON.parse(JSON.stringify({ restored: done, failures, skipped, notRestored, summary, fullBackup, undo })),
    },
  });
  await prisma().sessionLease.deleteMany({ where: { holder: run.label } });
  return { status, label: run.label, summary };
}

export async function abortRestore(input: { server: string; label?: string }): Promise<{ label: string; status: string }> {
  const run = await prisma().restoreRun.findFirst({
    where: { server: input.server, ...(input.label ? { label: input.label } : { status: { in: ["queued", "running"] } }) },
    orderBy: { createdAt: "desc" },
  });
  if (!run) throw new SessionNotFoundError(input.label ?? `restore running on ${input.server}`);
  await prisma().restoreRun.update({ where: { id: run.id }, data: { abortRequested: true, ...(run.status === "queued" ? { status: "aborted", endedAt: new Date() } : {}) } });
  return { label: run.label, status: run.status === "queued" ? "aborted" : "aborting after the current account" };
}

/** Aborts a restore run by id (the console's abort on a `restore-<n>` job). */
export async function abortRestoreRun(runId: number): Promise<{ label: string; status: string }> {
  // An id past what the column holds names no run (and would make the query itself fail).
  const run = Number.isSafeInteger(runId) && runId > 0 && runId <= 2 ** 31 - 1 ? await prisma().restoreRun.findUnique({ where: { id: runId } }) : null;
  if (!run) throw new SessionNotFoundError(`restore run ${runId}`);
  return abortRestore({ server: run.server, label: run.label });
}
