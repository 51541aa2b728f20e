/**
 * `backup -del 7d|1m|1y|<label>`: plans (retention-plan.ts), then deletes the planned sessions
 * from the target and the catalog, drops them from the accounts index, and prunes the blobs no
 * remaining session refers to. Refuses while a backup runs on the server (its new blobs are not
 * referenced by any published session yet) or while a restore holds a lease on a session to go.
 */
import { consolePool, prisma } from "../db/console-db.ts";
import { whileLocked } from "../db/advisory-lock.ts";
import { getServer } from "../directory/list-servers.ts";
import { BackupInProgressError } from "./errors.ts";
import { parseLabel } from "./labels.ts";
import { parseAge, planRetention, type RetentionPlan, type RetentionRule } from "./retention-plan.ts";
import { listShipped } from "../redo/ship-redo.ts";
import { parseSegmentName } from "../redo/segment-format.ts";
import { dropFromAccountsIndex, type SessionDescription } from "./session-files.ts";
import { pruneLockKey } from "./catalog.ts";
import { refuseLeased } from "./session-leases.ts";
import { BackupTarget, shippedSegmentObject } from "./target.ts";

export function parseRetentionRule(text: string, now = new Date()): RetentionRule {
  return parseLabel(text.trim()) ? { beforeLabel: text.trim() } : { olderThan: parseAge(text, now) };
}

export interface RetentionResult {
  plan: RetentionPlan;
  applied: boolean;
  removed: string[];
  blobsPruned: number;
  bytesFreed: number;
}

export async function applyRetention(serverName: string, ruleText: string, options: { planOnly: boolean }): Promise<RetentionResult> {
  const server = await getServer(serverName);
  const serverRow = await prisma().server.findUniqueOrThrow({ where: { name: server.name } });
  const rows = await prisma().backupSession.findMany({
    where: { serverId: serverRow.id },
    include: { accounts: { where: { kind: "full" }, select: { accountId: true } } },
  });
  // Undo leases last days: retention plans around them instead of refusing.
  const undoLeases = await prisma().sessionLease.findMany({ where: { sessionId: { in: rows.map((r) => r.id) }, holder: { startsWith: "undo:" }, expiresAt: { gt: new Date() } } });
  const plan = planRetention(
    rows.map((r) => ({ label: r.label, status: r.status, createdAt: r.createdAt, fullAccountIds: r.accounts.map((a) => a.accountId) })),
    parseRetentionRule(ruleText),
    undoLeases.map((l) => ({ label: rows.find((r) => r.id === l.sessionId)!.label, holder: `the undo of ${l.holder.slice("undo:".length)}`, expiresAt: l.expiresAt })),
  );
  const result: RetentionResult = { plan, applied: false, removed: [], blobsPruned: 0, bytesFreed: 0 };
  if (options.planOnly || plan.remove.length === 0) return result;

  // removeSessions refuses, under the prune lock, while a backup runs or a restore leases one.
  const doomed = rows.filter((r) => plan.remove.some((p) => p.label === r.label));
  Object.assign(result, await removeSessions(new BackupTarget(server.backupTarget, server.name), serverRow.id, doomed), { applied: true });
  return result;
}

/**
 * Deletes sessions from the target and the catalog, drops them from the accounts index, and
 * prunes the blobs and account files no remaining session refers to. The caller has checked that
 * nothing needs them. No backup may run meanwhile: a running one names blobs and account files no
 * published session refers to yet, and may be about to name ones only a session going now does.
 * So this holds the server's prune lock, under which it checks that none is queued or
 * running and that no restore holds a lease on a session to go; a backup asked for meanwhile is
 * refused, and a lease waits (createSession and leaseSessions take the lock shared).
 */
export async function removeSessions(
  target: BackupTarget,
  serverId: number,
  sessions: { id: number; label: string; status: string }[],
): Promise<{ removed: string[]; blobsPruned: number; bytesFreed: number; packsRemoved: number; packsRewritten: number; bytesRewritten: number }> {
  return whileLocked(pruneLockKey(serverId), { wait: true }, async (held) => {
    // Checked here, under the lock: no backup and no lease can begin meanwhile.
    const { rows } = await consolePool().query<{ label: string }>("SELECT label FROM backup_session WHERE server_id = $1 AND status IN ('queued', 'running') LIMIT 1", [serverId]);
    if (rows[0]) throw new BackupInProgressError(rows[0].label);
    await refuseLeased(sessions.map((s) => s.id));
    return removeAndPrune(target, sessions, held);
  });
}

async function removeAndPrune(
  target: BackupTarget,
  sessions: { id: number; label: string; status: string }[],
  held: AbortSignal,
): Promise<{ removed: string[]; blobsPruned: number; bytesFreed: number; packsRemoved: number; packsRewritten: number; bytesRewritten: number }> {
  const removed: string[] = [];
  for (const session of sessions) {
    held.throwIfAborted();
    await target.removeSession(session.label);
    await prisma().backupSession.delete({ where: { id: session.id } });
    removed.push(session.label);
  }
  await dropFromAccountsIndex(target, removed);
  held.throwIfAborted();
  const pruned = await pruneBlobs(target, held);
  held.throwIfAborted();
  await pruneShippedRedo(target);
  return { removed, blobsPruned: pruned.count, bytesFreed: pruned.bytes, packsRemoved: pruned.packsRemoved, packsRewritten: pruned.packsRewritten, bytesRewritten: pruned.bytesRewritten };
}

/**
 * Frees the target's blobs that no published session refers to: packs with none left are
 * removed, packs mostly garbage rewritten with what is still needed (repository.prune), packs no
 * index names (a crashed backup's) removed, and format-1 blob files no session needs deleted.
 * Account files (dumps/) no published manifest names go too; their bytes count in `bytes`.
 */
export async function pruneBlobs(
  target: BackupTarget,
  held?: AbortSignal,
): Promise<{ count: number; bytes: number; packsRemoved: number; packsRewritten: number; bytesRewritten: number; unindexedPacksRemoved: number }> {
  // Every blob list of every published session, or no prune: a list that cannot be read would
  // make the blobs it names look unneeded.
  const referenced = new Set<string>();
  for (const label of await target.publishedLabels()) {
    try {
      await target.eachBlobList(label, (_, digests) => digests.forEach((digest) => referenced.add(digest)), { strict: true });
    } catch (error) {
      throw new Error(`prune stopped, nothing removed: what ${label} needs cannot be read (${(error as Error).message}); run verify -lb ${label}`);
    }
  }
  held?.throwIfAborted();
  const packs = await (await target.repository()).prune(referenced);
  let count = packs.blobsRemoved;
  let bytes = packs.bytesFreed;
  // Account files no remaining session names (a deleted session's own, a failed backup's).
  for (const file of (await target.unreferencedAccountFiles()) ?? []) {
    held?.throwIfAborted();
    await target.backend.remove(file.name);
    bytes += file.size;
  }
  for await (const blob of target.listLegacyBlobs()) {
    if (referenced.has(blob.digest)) continue;
    await target.backend.remove(blob.name);
    count++;
    bytes += blob.size;
  }
  return { count, bytes, packsRemoved: packs.packsRemoved, packsRewritten: packs.packsRewritten, bytesRewritten: packs.bytesRewritten, unindexedPacksRemoved: packs.unindexedRemoved };
}

/**
 * Removes shipped redo segments (redo/<name>, ship-redo.ts) no restore can use any more: the
 * oldest ones, up to the first that a published session names or that ends after the redo the
 * oldest published full covers (a restore starts from a full and replays what follows it). Segments after it stay, named or not:
 * the newest are what a lost machine is rebuilt to. Returns the names removed.
 */
export async function pruneShippedRedo(target: BackupTarget): Promise<string[]> {
  const named = new Set<string>();
  let floor: number | null = null;
  let oldestFull: string | null = null;
  for (const label of await target.publishedLabels()) {
    const description = await target.readSessionJson<SessionDescription>(label);
    for (const name of description?.redo?.shipped ?? []) named.add(name);
    if (description?.type !== "full" || !description.redo) continue;
    const started = description.startedAt ?? description.createdAt;
    if (oldestFull === null || started < oldestFull) {
      oldestFull = started;
      floor = description.redo.throughSeq;
    }
  }
  if (floor === null) return [];
  const removed: string[] = [];
  // Oldest first, and only a prefix: what stays joins without a hole (verify checks it does).
  for (const name of await listShipped(target)) {
    if (named.has(name) || parseSegmentName(name)!.lastSeq > floor) break;
    await target.backend.remove(shippedSegmentObject(name));
    removed.push(name);
  }
  return removed;
}
