/**
 * A restore request from the API or the CLI: validated, planned (planning reads only metadata),
 * returned as it is for a dry run, or recorded as a restore run with its plan, leases taken on
 * the sessions it reads (retention will not delete them meanwhile), and queued.
 */
import { z } from "zod";
import { prisma } from "../db/console-db.ts";
import { InvalidInputError, MailvaultError } from "../errors.ts";
import { enqueueJob } from "../jobs/queues.ts";
import { openMailstore } from "../mailstore/mailstore.ts";
import { groupDdl } from "../mailstore/schema.ts";
import { OWNERLESS_LIKE } from "../mailstore/drop-mailbox.ts";
import { deletionTimeline } from "../redo/deletion-timeline.ts";
import { parseTime } from "../time/parse-time.ts";
import { targetHolding } from "../backup/server-targets.ts";
import { leaseSessions } from "../backup/session-leases.ts";
import { logger } from "../logger.ts";
import { getServer } from "../directory/list-servers.ts";
import { loadPlanInputs } from "./load-plan-inputs.ts";
import { bodiesMissingFromVolume } from "./metadata-only.ts";
import { countReplayed } from "./restore-redo-source.ts";
import { planRestore, planSessions, RestorePlanError, type RestorePlan, type RestoreRequest } from "./plan-restore.ts";
import { wholeNumber } from "../validation/whole-number.ts";

export const restoreInput = z.object({
  server: z.string().min(1, "name the server (-s)"),
  accounts: z.union([z.literal("all"), z.array(z.string().min(3)).min(1, "name at least one account (-a)")]).optional(),
  /** Disaster recovery of one mailbox group: every mailbox in it, in place, to the latest change. */
  group: wholeNumber("the mailbox group").optional(),
  restoreToTime: z.string().optional(),
  restoreToRedoSeq: wholeNumber("the redo sequence number").optional(),
  restoreToIncrLabel: z.string().optional(),
  label: z.string().optional(),
  copy: z.boolean().default(false),
  prefix: z.string().optional(),
  backupOnlyRedo: z.boolean().default(false),
  noRedo: z.boolean().default(false),
  skipDeletes: z.boolean().default(false),
  ignoreRedoErrors: z.boolean().default(false),
  continueOnError: z.boolean().default(false),
  skipDeletedAccounts: z.boolean().default(false),
  excludeBlobs: z.boolean().default(false),
  dryRun: z.boolean().default(false),
  requestedBy: z.string().max(200).default("console"),
});

export type RestoreInput = z.input<typeof restoreInput>;

export class RestoreRefusedError extends MailvaultError {
  constructor(reasons: string[], suggestedPrefix?: string) {
    super("invalid", "restore_refused", reasons.join("; "), { reasons, ...(suggestedPrefix ? { suggestedPrefix } : {}) });
  }
}

export function restoreLabel(at: Date, kind = "restore"): string {
  const iso = at.toISOString();
  return `${kind}-${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}.${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}.${iso.slice(20, 23)}`;
}

/**
 * Labels name a run by its millisecond; restores submitted in the same millisecond (a script, the
 * CLI and the console at once) take the next free one rather than failing on the unique label.
 */
export async function createWithFreeLabel<T>(create: (label: string) => Promise<T>, kind = "restore"): Promise<T> {
  const at = Date.now();
  for (let step = 0; ; step++) {
    try {
      return await create(restoreLabel(new Date(at + step), kind));
    } catch (error) {
      if ((error as { code?: string }).code !== "P2002" || step >= 100) throw error;
    }
  }
}

export async function planFromInput(raw: RestoreInput): Promise<{ plan: RestorePlan; request: RestoreRequest; input: z.output<typeof restoreInput> }> {
  const input = restoreInput.parse(raw);
  if (input.group !== undefined) {
    if (input.accounts) throw new InvalidInputError("--group restores every mailbox of the group: leave out -a");
    if (input.copy || input.prefix || input.restoreToTime || input.restoreToRedoSeq || input.restoreToIncrLabel || input.noRedo || input.backupOnlyRedo) {
      throw new InvalidInputError("--group rebuilds the group in place to the last committed change: it takes no point, -ca, -pre, -br or -rf");
    }
    input.accounts = await groupAccounts(input.server, input.group);
    input.continueOnError = true;
  }
  if (!input.accounts) throw new InvalidInputError("name the accounts to restore: -a <names...> or -a all (or --group N)");
  const restoreToTime = input.restoreToTime ? parseTime(input.restoreToTime, "restore time") : undefined;
  const { inputs, names } = await loadPlanInputs(input.server, input.accounts, { restoreToTime });
  const request: RestoreRequest = {
    server: input.server,
    accounts: names,
    restoreToTime,
    restoreToRedoSeq: input.restoreToRedoSeq,
    restoreToIncrLabel: input.restoreToIncrLabel,
    label: input.label,
    copy: input.copy,
    prefix: input.prefix,
    backupOnlyRedo: input.backupOnlyRedo,
    noRedo: input.noRedo,
    skipDeletes: input.skipDeletes,
    ignoreRedoErrors: input.ignoreRedoErrors,
    continueOnError: input.continueOnError,
    skipDeletedAccounts: input.skipDeletedAccounts,
    excludeBlobs: input.excludeBlobs,
  };
  try {
    const plan = planRestore(inputs, request);
    if (!request.excludeBlobs) {
      const bodies = await bodiesMissingFromVolume(input.server, plan, inputs.sessions);
      if (bodies.refusals.length) throw new RestorePlanError(bodies.refusals);
      plan.warnings.push(...bodies.warnings);
    }
    const deletion = await deletionAfter(input.server, plan);
    if (deletion) Object.assign(plan.point, { justBefore: deletion.justBefore, justBeforeAt: deletion.at });
    await countChanges(input.server, plan);
    return { plan, request, input };
  } catch (error) {
    if (error instanceof RestorePlanError) throw new RestoreRefusedError(error.reasons, error.suggestedPrefix);
    throw error;
  }
}

/**
 * When a restore stops just before a deletion of one of its accounts (the point the deletion
 * timeline offers), that deletion in the caller's terms; the plan, the run and the copy's page
 * say it so. Read from the redo, not taken from the request.
 */
async function deletionAfter(serverName: string, plan: RestorePlan): Promise<{ justBefore: string; at: string } | undefined> {
  const seq = plan.point.seq;
  if (seq === null || plan.accounts.length === 0) return undefined;
  for (const account of plan.accounts.slice(0, 3)) {
    const found = await deletionTimeline(serverName, { account: account.accountId, beforeSeq: seq + 2, limit: 1 }).catch(() => null);
    const entry = found?.entries[0];
    if (entry?.seq === seq + 1) return { justBefore: entry.justBefore, at: entry.at };
  }
  return undefined;
}

/** Plans of up to this many accounts say how many changes each replays (the redo is read once per account). */
const COUNTED_ACCOUNTS = 5;

/** "Then replays the 12 changes recorded after that backup": read from the redo, without message bytes. */
async function countChanges(serverName: string, plan: RestorePlan): Promise<void> {
  if (plan.accounts.length > COUNTED_ACCOUNTS || plan.accounts.every((a) => !a.redo.sessions.length && !a.redo.archive && !a.redo.currentLog)) return;
  const server = await getServer(serverName);
  const store = await openMailstore(server.name);
  for (const account of plan.accounts) {
    const target = await targetHolding(server, planSessions(account));
    account.redo.changes = await countReplayed(account, store, target).catch(() => undefined);
  }
}

/**
 * The mailboxes of a group, read from `mailstore.mailbox` (which lives outside the group's
 * schema, so it survives the loss of the group).
 */
async function groupAccounts(serverName: string, group: number): Promise<string[]> {
  const store = await openMailstore(serverName);
  if (group > store.groups) throw new InvalidInputError(`${serverName} has mailbox groups 1 to ${store.groups}`);
  // A drill's scratch mailbox or an explore view in the group belongs to no account: not the group's to rebuild.
  const { rows } = await store.pool.query<{ email: string }>("SELECT email FROM mailstore.mailbox WHERE group_id = $1 AND email NOT LIKE $2 ORDER BY id", [group, OWNERLESS_LIKE]);
  if (rows.length === 0) throw new InvalidInputError(`mailbox group ${group} of ${serverName} holds no mailbox`);
  return rows.map((r) => r.email);
}

export interface SubmittedRestore {
  label: string;
  runId: number;
  jobId: string;
  plan: RestorePlan;
}

export async function submitRestore(
  raw: RestoreInput,
  options: { disaster?: boolean } = {},
): Promise<{ dryRun: true; plan: RestorePlan } | ({ dryRun: false } & SubmittedRestore)> {
  const { plan, request, input } = await planFromInput(raw);
  if (input.dryRun) return { dryRun: true, plan };
  // A group or server rebuild runs even when no account can be restored: the run then puts
  // each broken one in maintenance and says why, rather than leaving them empty and in use.
  const disaster = options.disaster || input.group !== undefined;
  if (plan.accounts.length === 0 && !(disaster && plan.skipped.some((s) => s.unrestorable))) throw new InvalidInputError(`nothing to restore: ${plan.skipped.map((s) => `${s.requested} (${s.reason})`).join("; ")}`);
  // A lost group's schema is recreated empty (a planned one is left as it is).
  if (input.group !== undefined) await (await openMailstore(input.server)).pool.query(groupDdl(input.group));
  return queueRestore(plan, request, input.requestedBy);
}

/**
 * Records a planned restore as a run, takes leases on the sessions it reads and queues it.
 * `undoOf`: the run this one undoes (stored with the plan, shown on both runs' pages).
 */
export async function queueRestore(plan: RestorePlan, request: RestoreRequest, requestedBy: string, extra: { undoOf?: string } = {}): Promise<{ dryRun: false } & SubmittedRestore> {
  const run = await createWithFreeLabel((label) =>
    prisma().restoreRun.create({
      data: {
        label,
        server: plan.server,
        status: "queued",
        requestedBy,
        plan: JSON.parse(JSON.stringify({ plan, request, ...extra })),
        accountsTotal: plan.accounts.length,
      },
    }),
  );
  // Leases: the sessions this restore reads stay until it ends (or the lease runs out). When one
  // went (deleted or pruned since the plan was made), or a prune holds on, nothing is leased and
  // the run is removed: the submission is refused whole.
  const labels = [...new Set(plan.accounts.flatMap((a) => [...(a.snapshot ? [a.snapshot.session] : []), ...a.redo.sessions.map((s) => s.label)]))];
  const refused = await leaseSessions(plan.server, labels, run.label, "12 hours", { advice: "start the restore again when it is done" }).then(
    ({ missing }) =>
      missing.length ? new MailvaultError("conflict", "session_removed", `backup session(s) ${missing.join(", ")} of ${plan.server} were removed while the restore was planned: submit it again`) : null,
    (error: Error) => error,
  );
  if (refused) {
    // Removed, or where that fails, marked failed: never left queued with no job behind it.
    await prisma()
      .restoreRun.delete({ where: { id: run.id } })
      .catch(() => prisma().restoreRun.update({ where: { id: run.id }, data: { status: "failed", error: refused.message, endedAt: new Date() } }))
      .catch((error: Error) => logger.error({ err: error.message, run: run.label }, "a refused restore's run could not be removed"));
    throw refused;
  }
  const job = await enqueueJob(plan.server, "restore.start", { runId: run.id });
  await prisma().restoreRun.update({ where: { id: run.id }, data: { jobId: job.id! } });
  return { dryRun: false, label: run.label, runId: run.id, jobId: job.id!, plan };
}
