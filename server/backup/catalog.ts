/**
 * The console's catalog of backup sessions: the lock that allows one backup at a time per
 * server (a partial unique index over queued and running sessions), the heartbeat that tells a
 * live session from one whose worker died, progress, and outcomes. The backup target stays the
 * source of truth; this is a cache the target can rebuild (rescan-catalog.ts).
 */
import type { Prisma } from "../db/generated/client.ts";
import { config } from "../config.ts";
import { consolePool, prisma } from "../db/console-db.ts";
import { BackupInProgressError, PruneRunningError } from "./errors.ts";
import { sessionLabel, type SessionType } from "./labels.ts";

export type SessionStatus = "queued" | "running" | "completed" | "failed" | "aborted" | "interrupted";

export interface CatalogSession {
  id: number;
  label: string;
  type: SessionType;
  status: SessionStatus;
  abortRequested: boolean;
}

function staleSeconds(): number {
  return config().MAILVAULT_SESSION_STALE_SECONDS;
}

/** The advisory lock a prune holds, and a new session or a new lease (session-leases.ts) takes shared, for one server. */
export function pruneLockKey(serverId: number): string {
  return `mailvault.prune:${serverId}`;
}

async function serverName(serverId: number): Promise<string> {
  return (await prisma().server.findUnique({ where: { id: serverId }, select: { name: true } }))?.name ?? `server ${serverId}`;
}

/**
 * Creates a queued session, or refuses with 409 while another is queued or running. A running
 * session whose heartbeat went stale belonged to a worker that died: it is marked interrupted
 * and the new session proceeds.
 */
export async function createSession(input: {
  serverId: number;
  type: SessionType;
  mode: "standard" | "auto_grouped";
  requestedAccounts: string[];
  requestedBy: string;
  excludeBlobs?: boolean;
  isJobAlive?: (jobId: string) => Promise<boolean>;
}): Promise<CatalogSession & { replaced?: { label: string; status: "interrupted" | "failed" } }> {
  const active = await prisma().backupSession.findFirst({ where: { serverId: input.serverId, status: { in: ["queued", "running"] } } });
  let replaced: { label: string; status: "interrupted" | "failed" } | undefined;
  if (active) {
    const stale = Date.now() - active.heartbeatAt.getTime() > staleSeconds() * 1000;
    const lostJob = active.status === "queued" && active.jobId !== null && input.isJobAlive !== undefined && !(await input.isJobAlive(active.jobId));
    if (active.status === "running" && stale) {
      await finishSession(active.id, "interrupted", { error: "its worker stopped (no heartbeat); nothing it wrote was published" });
      replaced = { label: active.label, status: "interrupted" };
    } else if (lostJob) {
      await finishSession(active.id, "failed", { error: "its job was lost before a worker started it" });
      replaced = { label: active.label, status: "failed" };
    } else {
      throw new BackupInProgressError(active.label);
    }
  }
  try {
    const row = await prisma().$transaction(async (tx) => {
      // Not while retention prunes (apply-retention.ts): held shared until the row is in, so a
      // prune that starts after this sees the session and refuses.
      const [lock] = await tx.$queryRaw<{ ok: boolean }[]>`SELECT pg_try_advisory_xact_lock_shared(hashtext(${pruneLockKey(input.serverId)})) AS ok`;
      if (!lock?.ok) throw new PruneRunningError(await serverName(input.serverId));
      return tx.backupSession.create({
        data: {
          serverId: input.serverId,
          label: sessionLabel(input.type, new Date()),
          type: input.type,
          mode: input.mode,
          status: "queued",
          requestedAccounts: input.requestedAccounts,
          requestedBy: input.requestedBy,
          excludeBlobs: input.excludeBlobs ?? false,
        },
      });
    });
    return { id: row.id, label: row.label, type: row.type, status: row.status, abortRequested: false, replaced };
  } catch (error) {
    // Two submissions at once: the unique index lets one through.
    if ((error as { code?: string }).code === "P2002") {
      const other = await prisma().backupSession.findFirst({ where: { serverId: input.serverId, status: { in: ["queued", "running"] } } });
      throw new BackupInProgressError(other?.label ?? "another session");
    }
    throw error;
  }
}

export async function setJob(sessionId: number, jobId: string): Promise<void> {
  await prisma().backupSession.update({ where: { id: sessionId }, data: { jobId } });
}

/** queued -> running; null when the session is no longer queued (aborted meanwhile). */
export async function markRunning(sessionId: number): Promise<CatalogSession | null> {
  const { count } = await prisma().backupSession.updateMany({
    where: { id: sessionId, status: "queued", abortRequested: false },
    data: { status: "running", startedAt: new Date(), heartbeatAt: new Date() },
  });
  if (count === 0) return null;
  return getCatalogSession(sessionId);
}

export async function getCatalogSession(sessionId: number): Promise<CatalogSession> {
  const row = await prisma().backupSession.findUniqueOrThrow({ where: { id: sessionId } });
  return { id: row.id, label: row.label, type: row.type, status: row.status, abortRequested: row.abortRequested };
}

/** Refreshes the heartbeat; says whether the session should go on. */
export async function heartbeat(sessionId: number): Promise<{ goOn: boolean; abortRequested: boolean }> {
  const { rows } = await consolePool().query<{ status: SessionStatus; abort_requested: boolean }>(
    `UPDATE backup_session SET heartbeat_at = now() WHERE id = $1 RETURNING status, abort_requested`,
    [sessionId],
  );
  const row = rows[0];
  return { goOn: row?.status === "running" && !row.abort_requested, abortRequested: row?.abort_requested ?? true };
}

export async function addProgress(sessionId: number, delta: { accounts: number; bytes: number; current?: string }): Promise<void> {
  await consolePool().query(
    `UPDATE backup_session SET accounts_done = accounts_done + $2, bytes_written = bytes_written + $3,
            current_account = coalesce($4, current_account), heartbeat_at = now() WHERE id = $1`,
    [sessionId, delta.accounts, delta.bytes, delta.current ?? null],
  );
}

export async function updateSession(sessionId: number, data: Prisma.BackupSessionUpdateInput): Promise<void> {
  await prisma().backupSession.update({ where: { id: sessionId }, data });
}

export async function finishSession(
  sessionId: number,
  status: Exclude<SessionStatus, "queued" | "running">,
  data: Prisma.BackupSessionUpdateInput = {},
): Promise<void> {
  await prisma().backupSession.update({ where: { id: sessionId }, data: { ...data, status, endedAt: new Date(), currentAccount: null } });
}

/** Where the next session's redo starts: after the last completed session's. */
export async function lastCompletedThrough(serverId: number): Promise<number | null> {
  const row = await prisma().backupSession.findFirst({
    where: { serverId, status: "completed", redoThroughSeq: { not: null } },
    orderBy: { redoThroughSeq: "desc" },
  });
  return row?.redoThroughSeq === null || row === null ? null : Number(row.redoThroughSeq);
}

/** Each account's newest completed full backup on this server: when, and the mailbox's change number and redo position in it. */
export async function lastFulls(serverId: number): Promise<Map<string, { at: Date; changeNumber: number | null; redoSeq: number | null }>> {
  const { rows } = await consolePool().query<{ account_id: string; at: Date; change_number: string | null; redo_seq: string | null }>(
    `SELECT DISTINCT ON (a.account_id) a.account_id, s.ended_at AS at, a.change_number, a.redo_seq
       FROM session_account a JOIN backup_session s ON s.id = a.session_id
      WHERE s.server_id = $1 AND s.status = 'completed' AND a.kind = 'full'
      ORDER BY a.account_id, s.ended_at DESC`,
    [serverId],
  );
  const number = (v: string | null) => (v === null ? null : Number(v));
  return new Map(rows.map((r) => [r.account_id, { at: r.at, changeNumber: number(r.change_number), redoSeq: number(r.redo_seq) }]));
}

