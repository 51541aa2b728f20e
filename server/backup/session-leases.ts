/**
 * Leases on backup sessions: a restore holds one on each session it reads until it ends, and an
 * in-place restore's undo on the sessions the undo would read, so that neither delete nor
 * retention removes them meanwhile.
 *
 * A lease and a prune must not cross: a prune that has found no lease on a session, and a lease
 * taken on it just after, would leave a restore reading a session being removed. So a lease is
 * taken holding the server's prune lock shared, and a prune looks for leases again once it holds
 * that lock (apply-retention.ts).
 */
import { consolePool } from "../db/console-db.ts";
import { pruneLockKey } from "./catalog.ts";
import { PruneRunningError, SessionLeasedError } from "./errors.ts";

/** How long a lease waits for a running prune before it gives up (a prune is short next to a restore). */
const PRUNE_WAIT_MS = 15_000;

/**
 * Leases the sessions `labels` of `server` to `holder` for `lifetime` (a Postgres interval, such as
 * "12 hours"): all of them, or none when any is no longer in the catalog (`missing` names those).
 * Waits for a running prune, up to `pruneWaitMs` (15 s by default), then refuses with
 * prune_running and `advice`.
 */
export async function leaseSessions(
  server: string,
  labels: string[],
  holder: string,
  lifetime: string,
  options: { pruneWaitMs?: number; advice?: string } = {},
): Promise<{ leased: string[]; missing: string[]; expiresAt: Date | null }> {
  if (labels.length === 0) return { leased: [], missing: [], expiresAt: null };
  const client = await consolePool().connect();
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    try {
      const { rows: found } = await client.query<{ id: number }>("SELECT id FROM server WHERE name = $1", [server]);
      const serverId = found[0]?.id;
      if (serverId === undefined) {
        await client.query("ROLLBACK");
        return { leased: [], missing: labels, expiresAt: null };
      }
      await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.ceil(options.pruneWaitMs ?? PRUNE_WAIT_MS))}`);
      await client.query("SELECT pg_advisory_xact_lock_shared(hashtext($1))", [pruneLockKey(serverId)]).catch((error: { code?: string }) => {
        throw error.code === "55P03" ? new PruneRunningError(server, options.advice) : error; // lock_not_available: the wait ran out
      });
      const { rows } = await client.query<{ label: string; expires_at: Date }>(
        `WITH wanted AS (SELECT id, label FROM backup_session WHERE server_id = $1 AND label = ANY($2::text[])),
              leased AS (INSERT INTO session_lease (session_id, holder, expires_at)
                         SELECT id, $3, now() + $4::interval FROM wanted RETURNING session_id, expires_at)
         SELECT wanted.label, leased.expires_at FROM leased JOIN wanted ON wanted.id = leased.session_id`,
        [serverId, labels, holder, lifetime],
      );
      const leased = rows.map((r) => r.label);
      const missing = labels.filter((label) => !leased.includes(label));
      if (missing.length) {
        await client.query("ROLLBACK");
        return { leased: [], missing, expiresAt: null };
      }
      await client.query("COMMIT");
      return { leased, missing, expiresAt: rows[0]?.expires_at ?? null };
    } catch (error) {
      // A connection whose rollback failed may still be inside the transaction: it is closed.
      await client.query("ROLLBACK").catch((rollback: Error) => (broken = rollback));
      throw error;
    }
  } finally {
    client.release(broken);
  }
}

/**
 * Refuses with session_in_use when any of `sessionIds` holds a live lease. A prune calls this
 * holding the server's prune lock, so no lease can be taken between the check and the removal.
 */
export async function refuseLeased(sessionIds: number[]): Promise<void> {
  if (sessionIds.length === 0) return;
  const { rows } = await consolePool().query<{ label: string; holder: string }>(
    `SELECT s.label, l.holder FROM session_lease l JOIN backup_session s ON s.id = l.session_id
      WHERE l.session_id = ANY($1::int[]) AND l.expires_at > now() ORDER BY s.label LIMIT 1`,
    [sessionIds],
  );
  if (rows[0]) throw new SessionLeasedError(rows[0].label, rows[0].holder);
}
