/**
 * The restore points of one account (deleted accounts too): its full snapshots, the sessions
 * whose redo follows them, the server's redo archive and current log, the gaps, and the window
 * a restore can reach, as a timeline the console draws (see restore-timeline.ts). Reads the same
 * facts the restore planner reads (load-plan-inputs.ts, redo-coverage.ts). When the server's
 * mailstore cannot be read, the backed-up part is still answered, with `liveRedoError` set.
 */
import { getAccount, type AccountDetail } from "../directory/get-account.ts";
import { openMailstore } from "../mailstore/mailstore.ts";
import { redoCoverage, type RedoCoverage } from "../redo/redo-coverage.ts";
import { loadCompletedSessions } from "./load-plan-inputs.ts";
import { parseTime } from "../time/parse-time.ts";
import { buildRestoreTimeline, whyNotRecoverable, type RestoreTimeline } from "./restore-timeline.ts";

export type { TimelineSegment } from "./restore-timeline.ts";

export interface RestorePoints extends RestoreTimeline {
  account: Pick<AccountDetail, "id" | "email" | "server" | "status" | "createdAt" | "deletedAt" | "names">;
  /** Why the archive and current log are missing from the answer, when they are. */
  liveRedoError: string | null;
  generatedAt: string;
  /** With `at`: whether that moment can be restored, and if not, why in the caller's terms. */
  pointCheck?: { at: string; reason: string | null };
}

export async function restorePoints(accountId: string, { now = new Date(), at }: { now?: Date; at?: string | null } = {}): Promise<RestorePoints> {
  const asked = at ? parseTime(at, "time") : undefined;
  const account = await getAccount(accountId);
  const sessions = await loadCompletedSessions(account.server, { accountIds: [account.id] });
  let coverage: RedoCoverage | null = null;
  let liveRedoError: string | null = null;
  try {
    coverage = await redoCoverage(await openMailstore(account.server), { withTimes: true });
  } catch (error) {
    liveRedoError = `the redo archive and current log of ${account.server} cannot be read: ${(error as Error).message}`;
  }
  const timeline = buildRestoreTimeline({
    accountId: account.id,
    sessions,
    coverage,
    now,
    deletedAt: account.deletedAt ? new Date(account.deletedAt) : null,
  });
  const { id, email, server, status, createdAt, deletedAt, names } = account;
  const pointCheck = asked ? { at: asked.toISOString(), reason: whyNotRecoverable(timeline, { time: asked.toISOString() }) } : undefined;
  return { account: { id, email, server, status, createdAt, deletedAt, names }, ...timeline, liveRedoError, generatedAt: now.toISOString(), pointCheck };
}
