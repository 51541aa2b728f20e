/**
 * Deletes one backup session (an admin's choice in the console), with retention's safety rules:
 * refused while a backup runs on the server (pruning would take its new blobs) or a restore holds
 * a lease on the session, and refused when a later session builds on it. That last test is the
 * retention planner's own: a completed session may go only if retention with the cutoff at the
 * next completed session would delete it, i.e. every account's newest full at or before that
 * session is newer than this one, so no later restore starts from it or replays its redo. The
 * newest completed session always stays (later backups continue its redo chain). Failed, aborted
 * and interrupted sessions are never read by a restore and may always go. Then the session is
 * removed from the target, the catalog and the accounts index, and unreferenced blobs are pruned.
 *
 * The console does not touch the target: `requestSessionDelete` checks the refusals (answered at
 * once as 4xx), then the server's worker runs `deleteSession` as a `backup.delete` job, which
 * checks again (the state may have moved) and does the removal and the prune.
 */
import { prisma } from "../db/console-db.ts";
import { getServer, listServerNames } from "../directory/list-servers.ts";
import { InvalidInputError, MailvaultError } from "../errors.ts";
import { runJob, unlessRefused } from "../jobs/run-job.ts";
import { removeSessions } from "./apply-retention.ts";
import { BackupInProgressError, SessionNotFoundError } from "./errors.ts";
import { refuseLeased } from "./session-leases.ts";
import { planRetention } from "./retention-plan.ts";
import { BackupTarget } from "./target.ts";

export class SessionNeededError extends MailvaultError {
  constructor(label: string, reason: string) {
    super("conflict", "session_needed", `cannot delete ${label}: ${reason}`);
  }
}

export interface DeleteSessionResult {
  server: string;
  label: string;
  /** The status the session had. */
  status: string;
  removed: string[];
  blobsPruned: number;
  bytesFreed: number;
}

async function findServer(server: string | undefined, label: string): Promise<string> {
  if (server) return (await getServer(server)).name;
  const rows = await prisma().backupSession.findMany({ where: { label }, select: { server: { select: { name: true } } } });
  if (rows.length === 0) throw new SessionNotFoundError(label);
  if (rows.length > 1) throw new InvalidInputError(`several servers have a session ${label}: name the server (one of ${(await listServerNames()).join(", ")})`);
  return rows[0]!.server.name;
}

/** Why the session may not go, thrown; else its server and catalog row. */
async function checkDeletable(input: { server?: string; label: string }) {
  const serverName = await findServer(input.server, input.label);
  const server = await getServer(serverName);
  const rows = await prisma().backupSession.findMany({
    where: { server: { name: server.name } },
    include: { accounts: { where: { kind: "full" }, select: { accountId: true } } },
  });
  const session = rows.find((r) => r.label === input.label);
  if (!session) throw new SessionNotFoundError(input.label);
  const active = rows.find((r) => r.status === "queued" || r.status === "running");
  if (active) throw new BackupInProgressError(active.label);
  await refuseLeased([session.id]);

  if (session.status === "completed") {
    const completed = rows.filter((r) => r.status === "completed").sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    const next = completed.find((r) => r.createdAt > session.createdAt);
    if (!next) {
      throw new SessionNeededError(session.label, `it is the newest completed backup of ${server.name}: the next backup continues its redo chain, and a server is never left without a backup`);
    }
    const plan = planRetention(
      rows.map((r) => ({ label: r.label, status: r.status, createdAt: r.createdAt, fullAccountIds: r.accounts.map((a) => a.accountId) })),
      { beforeLabel: next.label },
    );
    const kept = plan.keep.find((k) => k.label === session.label);
    if (kept) {
      throw new SessionNeededError(
        session.label,
        `later sessions build on it (${kept.reason}); restores after it start from its full snapshots or replay its redo. Take a full backup of the accounts first, or delete the later sessions`,
      );
    }
  }
  return { server, session };
}

/** Deletes the session where the target is reachable: on the server's worker (job `backup.delete`). */
export async function deleteSession(input: { server?: string; label: string }): Promise<DeleteSessionResult> {
  const { server, session } = await checkDeletable(input);
  const result = await removeSessions(new BackupTarget(server.backupTarget, server.name), session.serverId, [session]);
  return { server: server.name, label: session.label, status: session.status, ...result };
}

/** The console's way to delete a session: checks here, removal on the server's worker. */
export async function requestSessionDelete(input: { server?: string; label: string }): Promise<DeleteSessionResult> {
  const { server } = await checkDeletable(input);
  const { result } = await runJob(server.name, "backup.delete", { label: input.label }, 600_000);
  return unlessRefused<DeleteSessionResult>(result);
}
