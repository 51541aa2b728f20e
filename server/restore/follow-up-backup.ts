/**
 * The full backup a restore run asks for once its accounts are restored, so their next restore
 * starts from their new state (a prefixed copy has no other full backup). It runs as its own job
 * (`restore.backup`): when another backup of the server is running, the job waits for it and
 * tries again, for as long as it takes, rather than being dropped. The run's result says where
 * it stands: waiting for which session, or queued as which.
 */
import { BackupInProgressError } from "../backup/errors.ts";
import { submitBackup } from "../backup/submit-backup.ts";
import { consolePool, prisma } from "../db/console-db.ts";

export type FollowUpState = { queued: string } | { waitingFor: string } | { notQueued: string };

/** The words the run's result and the CLI show. */
export function describeFollowUp(state: FollowUpState): string {
  if ("queued" in state) return `queued ${state.queued}`;
  if ("waitingFor" in state) return `waiting for ${state.waitingFor} to end, then queued`;
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
  const { rows } = await consolePool().query<{ email: string }>("SELECT email FROM account WHERE deleted_at IS NULL AND email = ANY($1::text[])", [input.accounts]);
  let state: FollowUpState;
  if (rows.length === 0) state = { notQueued: "none of the restored accounts exists any more" };
  else {
    state = await submitBackup({ server: input.server, type: "full", accounts: rows.map((r) => r.email), requestedBy: `after ${run.label}` }).then(
      (b): FollowUpState => ({ queued: b.label }),
      (error: Error): FollowUpState => (error instanceof BackupInProgressError ? { waitingFor: error.label } : { notQueued: error.message }),
    );
  }
  await recordOnRun(input.runId, state);
  return state;
}
