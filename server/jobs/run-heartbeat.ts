/**
 * A restore run's heartbeat (restore_run.heartbeat_at), refreshed while one of its jobs runs, as
 * a backup session's is by keepAlive in server/backup/session-context.ts. The worker's sweep
 * (server/backup/sweep-stale.ts) reads it to tell a live run from one whose jobs died.
 */
import { consolePool } from "../db/console-db.ts";

export const RUN_HEARTBEAT_MS = 2_000;

/** Beats now and every RUN_HEARTBEAT_MS until stopped; a missed beat (database down) is skipped. */
export function keepRestoreRunAlive(runId: number): { stop(): void } {
  const beat = () => void consolePool().query("UPDATE restore_run SET heartbeat_at = now() WHERE id = $1", [runId]).catch(() => {});
  beat();
  const timer = setInterval(beat, RUN_HEARTBEAT_MS);
  return { stop: () => clearInterval(timer) };
}
