/**
 * `catalog --rescan`: rebuilds a server's catalog from its backup target alone (after losing the
 * console database, or to check the cache). Every session folder's session.json says what the
 * session was; one that is not published but says running or completed has no worker any more
 * (interrupted). Sessions the catalog has as queued or running right now are left alone.
 */
import { prisma } from "../db/console-db.ts";
import { getServer } from "../directory/list-servers.ts";
import type { SessionDescription } from "./session-files.ts";
import { BackupTarget } from "./target.ts";

export async function rescanCatalog(serverName: string): Promise<{ sessions: number; accounts: number; byStatus: Record<string, number> }> {
  const server = await getServer(serverName);
  const serverRow = await prisma().server.findUniqueOrThrow({ where: { name: server.name } });
  const target = new BackupTarget(server.backupTarget, server.name);
  const active = await prisma().backupSession.findMany({ where: { serverId: serverRow.id, status: { in: ["queued", "running"] } } });
  const found: SessionDescription[] = [];
  for (const { label, published } of await target.sessions()) {
    if (active.some((a) => a.label === label)) continue;
    const description = await target.readSessionJson<SessionDescription>(label).catch(() => null);
    if (!description) continue;
    if (!published && (description.status === "running" || description.status === "completed")) description.status = "interrupted";
    found.push(description);
  }
  const byStatus: Record<string, number> = {};
  let accounts = 0;
  await prisma().$transaction(async (tx) => {
    await tx.backupSession.deleteMany({ where: { serverId: serverRow.id, status: { notIn: ["queued", "running"] } } });
    for (const d of found) {
      byStatus[d.status] = (byStatus[d.status] ?? 0) + 1;
      accounts += d.accounts.length;
      await tx.backupSession.create({
        data: {
          serverId: serverRow.id,
          label: d.label,
          type: d.type,
          mode: d.mode,
          status: d.status as "completed" | "failed" | "aborted" | "interrupted",
          requestedAccounts: d.requestedAccounts ?? [],
          requestedBy: d.requestedBy ?? "",
          excludeBlobs: d.excludeBlobs === true,
          createdAt: new Date(d.createdAt),
          startedAt: d.startedAt ? new Date(d.startedAt) : null,
          endedAt: d.endedAt ? new Date(d.endedAt) : null,
          heartbeatAt: new Date(d.endedAt ?? d.createdAt),
          redoFromSeq: d.redo?.fromSeq ?? null,
          redoThroughSeq: d.redo?.throughSeq ?? null,
          redoSegments: d.redo?.segments.length ?? 0,
          accountsTotal: d.counts?.fulls ?? 0,
          accountsDone: d.counts?.fulls ?? 0,
          bytesWritten: d.counts?.bytesWritten ?? 0,
          blobsReferenced: d.counts?.blobsReferenced ?? 0,
          blobBytesReferenced: d.counts?.blobBytesReferenced ?? 0,
          blobsNew: d.counts?.blobsNew ?? 0,
          blobBytesNew: d.counts?.blobBytesNew ?? 0,
          error: d.error,
          warnings: d.warnings ?? [],
          accounts: {
            create: d.accounts.map((a) => ({
              accountId: a.accountId,
              email: a.email,
              kind: a.kind,
              reason: a.reason,
              changeNumber: a.changeNumber ?? null,
              redoSeq: a.lastRedoSeq ?? null,
              snapshotAt: a.snapshotAt ? new Date(a.snapshotAt) : null,
              items: a.items ?? 0,
              messages: a.messages ?? 0,
              bytes: a.blobBytes ?? 0,
            })),
          },
        },
      });
    }
  });
  return { sessions: found.length, accounts, byStatus };
}
