/**
 * The full backup a restore run asks for once its accounts are restored, so their next restore
 * starts from their new state (a prefixed copy has no other full backup). The run queues it as
 * it ends; when another backup of the server is running, a job of its own (`restore.backup`)
 * waits for that one and tries again, for as long as it takes, rather than dropping it. A backup that snapshotted the
 * restored accounts after the run ended already did the work: the job then queues nothing. The
 * run's result says where it stands: waiting for which session, included in which, or queued as
 * which.
 */
import { BackupInProgressError, PruneRunningError } from "../backup/errors.ts";
import { submitBackup } from "../backup/submit-backup.ts";
import { consolePool, prisma } from "../db/console-db.ts";

export type FollowUpState = { queued: string } | { waitingFor: string } | { includedIn: string } | { notQueued: string };

/** Where a follow-up stands when its backup was refused: waiting (another backup, a prune) or not queued. */
export function refusedFollowUp(error: Error, server: string): FollowUpState {
  if (error instanceof BackupInProgressError) return { waitingFor: error.label };
  if (error instanceof PruneRunningError) return { waitingFor: `the prune of ${server}'s target` };
  return { notQueued: error.message };
}

/** The words the run's result and the CLI show. */
export function describeFollowUp(state: FollowUpState): string {
  if ("queued" in state) return `queued ${state.queued}`;
  if ("waitingFor" in state) return `waiting for ${state.waitingFor} to end, then queued`;
  if ("includedIn" in state) return `included in ${state.includedIn}`;
  return `not queued: ${state.notQueued}`;
}

async function recordOnRun(runId: number, state: FollowUpState): Promise<void> {
  await consolePool().query(
    "UPDATE restore_run SET result = jsonb_set(coalesce(result, '{}'::jsonb), '{fullBackup}', to_jsonb($2::text)) WHERE id = $1",
    [runId, describeFollowUp(state)],
  );
}

/** One try: queue the full backup of the run's restored accounts that still exist, or say what it waits for. */
export async function tryFollowUpBackup(input: { runId: number; server: string; accounts: string[] }): Promise<FollowUpState> {
  const run = await prisma().restoreRun.findUniqueOrThrow({ where: { id: input.runId } });
  // An account deleted or renamed since its restore is not one to back up under that name.
  const { rows } = await consolePool().query<{ email: string; included_in: string | null }>(
    `SELECT a.email,
            (SELECT s.label FROM session_account sa JOIN backup_session s ON s.id = sa.session_id AND s.status = 'completed'
              WHERE sa.account_id = a.id AND sa.kind = 'full' AND sa.snapshot_at >= $2 ORDER BY s.created_at LIMIT 1) AS included_in
       FROM account a WHERE a.deleted_at IS NULL AND a.email = ANY($1::text[])`,
    [input.accounts, run.endedAt ?? run.createdAt],
  );
  const missing = rows.filter((r) => r.included_in === null).map((r) => r.email);
  const included = [...new Set(rows.map((r) => r.included_in).filter((l): l is string => l !== null))];
  let state: FollowUpState;
  if (rows.length === 0) state = { notQueued: "none of the restored accounts exists any more" };
  else if (missing.length === 0) state = { includedIn: included.join(", ") };
  else {
    state = await submitBackup({ server: input.server, type: "full", accounts: missing, requestedBy: `after ${run.label}` }).then(
      (b): FollowUpState => ({ queued: b.label }),
      (error: Error) => refusedFollowUp(error, input.server),
    );
  }
  await recordOnRun(input.runId, state);
  return state;
}
