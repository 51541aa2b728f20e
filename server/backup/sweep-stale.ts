/**
 * The worker's sweep of work that died: backup sessions and restore runs that still say
 * "running" although nothing works on them any more (their worker was killed, or Redis lost
 * their jobs). Without it, such a session stayed "running" until someone asked for the next
 * backup, and a restore run forever.
 *
 * A session or run is taken for dead when both hold:
 *   - its heartbeat is older than MAILVAULT_SESSION_STALE_SECONDS: whatever job works on it
 *     refreshes the heartbeat every second or few;
 *   - none of its jobs has work left in Redis (waiting, delayed, active, waiting for children).
 * The second test matters: a session's next batch may wait minutes for a free worker slot, and a
 * restore account may wait out a retry's backoff, with nobody refreshing the heartbeat. A job
 * left active by a killed worker is BullMQ's to recover (its stalled-job check puts it back).
 *
 * Marking is one conditional UPDATE (still running, still stale), so a session that finishes or
 * beats between the reads and the write is left alone, and two workers sweeping the same server
 * cannot both act. Only then is the session's folder on the backup target told (session.json)
 * and the temporary files its writes left there removed: files named `<name>.tmp-<8 hex>`
 * (the local backend's atomic saves), inside that session's own sessions/<label>/ folder,
 * nothing else. A dead restore run releases its session leases, as a finished one does.
 */
import { config } from "../config.ts";
import { consolePool } from "../db/console-db.ts";
import { BackupTarget } from "./target.ts";

export interface SweepOptions {
  /** The servers this worker serves: only their sessions and runs are looked at. */
  servers: string[];
  /** Whether the job with this id, on this server's queue, still has work ahead of it. */
  hasWorkLeft: (server: string, jobId: string) => Promise<boolean>;
  /** Defaults to MAILVAULT_SESSION_STALE_SECONDS. */
  staleSeconds?: number;
}

export interface SweepResult {
  sessions: { server: string; label: string }[];
  runs: { server: string; label: string }[];
  /** Temporary files removed from the dead sessions' folders. */
  removedFiles: string[];
}

const SESSION_ERROR = "its worker stopped or its jobs were lost (no heartbeat, no job left in Redis); nothing it wrote was published";
const RUN_ERROR = "its worker stopped or its jobs were lost (no heartbeat, no job left in Redis)";

async function anyAlive(server: string, jobIds: (string | null)[], hasWorkLeft: SweepOptions["hasWorkLeft"]): Promise<boolean> {
  for (const id of jobIds) if (id && (await hasWorkLeft(server, id))) return true;
  return false;
}

export async function sweepStale(options: SweepOptions): Promise<SweepResult> {
  const stale = options.staleSeconds ?? config().MAILVAULT_SESSION_STALE_SECONDS;
  const result: SweepResult = { sessions: [], runs: [], removedFiles: [] };
  if (options.servers.length === 0) return result;
  const pool = consolePool();

  const { rows: sessions } = await pool.query<{ id: number; label: string; job_id: string | null; server: string; backup_target: string }>(
    `SELECT s.id, s.label, s.job_id, v.name AS server, v.backup_target FROM backup_session s JOIN server v ON v.id = s.server_id
      WHERE v.name = ANY($1::text[]) AND s.status = 'running' AND s.heartbeat_at < now() - make_interval(secs => $2)`,
    [options.servers, stale],
  );
  for (const s of sessions) {
    // backup.start adds the session's flow (backup.finish and its batches) before it completes,
    // so at every moment one of these two has work left while the session lives.
    if (await anyAlive(s.server, [s.job_id, `backup-${s.id}-finish`], options.hasWorkLeft)) continue;
    const { rowCount } = await pool.query(
      `UPDATE backup_session SET status = 'interrupted', ended_at = now(), current_account = NULL, error = $3
        WHERE id = $1 AND status = 'running' AND heartbeat_at < now() - make_interval(secs => $2)`,
      [s.id, stale, SESSION_ERROR],
    );
    if (!rowCount) continue;
    result.sessions.push({ server: s.server, label: s.label });
    const target = new BackupTarget(s.backup_target, s.server);
    await markInterrupted(target, s.label);
    result.removedFiles.push(...(await target.removeSessionTemps(s.label)));
  }

  const { rows: runs } = await pool.query<{ id: number; label: string; job_id: string | null; server: string }>(
    `SELECT id, label, job_id, server FROM restore_run
      WHERE server = ANY($1::text[]) AND status IN ('running', 'failing') AND heartbeat_at < now() - make_interval(secs => $2)`,
    [options.servers, stale],
  );
  for (const r of runs) {
    // Likewise restore.start adds restore.finish (with restore.account children: an account or a batch each).
    if (await anyAlive(r.server, [r.job_id, `restore-${r.id}-finish`], options.hasWorkLeft)) continue;
    const { rowCount } = await pool.query(
      `UPDATE restore_run SET status = 'interrupted', ended_at = now(), current_account = NULL, error = $3
        WHERE id = $1 AND status IN ('running', 'failing') AND heartbeat_at < now() - make_interval(secs => $2)`,
      [r.id, stale, RUN_ERROR],
    );
    if (!rowCount) continue;
    await pool.query("DELETE FROM session_lease WHERE holder = $1", [r.label]);
    result.runs.push({ server: r.server, label: r.label });
  }
  return result;
}

/** The target says what became of the session (it is the truth the catalog rebuilds from). */
async function markInterrupted(target: BackupTarget, label: string): Promise<void> {
  const description = await target.readSessionJson<Record<string, unknown>>(label).catch(() => null);
  if (!description || description.status !== "running") return;
  await target.rewriteSessionJson(label, { ...description, status: "interrupted", endedAt: new Date().toISOString(), error: SESSION_ERROR });
}
