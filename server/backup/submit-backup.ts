/**
 * A backup request, as the API and the CLI make it: validated, checked against the one-backup-
 * at-a-time lock and the target's free space, recorded in the catalog as queued, and handed to
 * the server's queue as a `backup.start` job (its id derived from the session, so a double
 * submit cannot start two).
 */
import { z } from "zod";
import { consolePool, prisma } from "../db/console-db.ts";
import { getServer } from "../directory/list-servers.ts";
import { InvalidInputError } from "../errors.ts";
import { enqueueJob, serverQueue } from "../jobs/queues.ts";
import { createSession, finishSession, setJob } from "./catalog.ts";
import { reportRefusal } from "../reports/send-report.ts";
import { InsufficientSpaceError } from "./errors.ts";
import { checkFreeSpace } from "./free-space.ts";
import { BackupTarget } from "./target.ts";

/** The session.json of a session whose worker died still says "running": say what became of it. */
async function markLeftBehind(target: BackupTarget, replaced: { label: string; status: string }): Promise<void> {
  const description = await target.readSessionJson<Record<string, unknown>>(replaced.label).catch(() => null);
  if (!description) return;
  await target.rewriteSessionJson(replaced.label, { ...description, status: replaced.status, endedAt: new Date().toISOString(), error: "its worker stopped; nothing it wrote was published" });
}

export const backupRequest = z.object({
  server: z.string().min(1, "name the server (-s)"),
  type: z.enum(["full", "incremental"], "type is full or incremental"),
  /** "all", a list of emails, or nothing: every account (on an auto-grouped server, its next group). */
  accounts: z.union([z.literal("all"), z.array(z.string().min(3)).min(1)]).optional(),
  requestedBy: z.string().max(200).default("console"),
  /** zimbraBackupSkipBlobs: metadata only; the message bodies stay on the blob volume alone. */
  excludeBlobs: z.boolean().default(false),
});

export type BackupRequest = z.input<typeof backupRequest>;

export interface SubmittedBackup {
  sessionId: number;
  label: string;
  jobId: string;
  server: string;
  type: "full" | "incremental";
  mode: "standard" | "auto_grouped";
}

export async function submitBackup(raw: BackupRequest): Promise<SubmittedBackup> {
  const request = backupRequest.parse(raw);
  const server = await getServer(request.server);
  const serverRow = await prisma().server.findUniqueOrThrow({ where: { name: server.name } });
  if (request.type === "incremental" && Array.isArray(request.accounts)) {
    throw new InvalidInputError("an incremental backup covers every account of the server: leave out -a (or take a full backup of those accounts)");
  }
  const requested = Array.isArray(request.accounts) ? [...new Set(request.accounts.map((e) => e.trim().toLowerCase()))] : [];
  if (requested.length) {
    const { rows } = await consolePool().query<{ email: string }>(
      "SELECT email FROM account WHERE server_id = $1 AND deleted_at IS NULL AND email = ANY($2::text[])",
      [serverRow.id, requested],
    );
    const known = new Set(rows.map((r) => r.email));
    const unknown = requested.filter((e) => !known.has(e));
    if (unknown.length) throw new InvalidInputError(`no live account named ${unknown.join(", ")} on ${server.name}`);
  }
  await checkFreeSpace(server.backupTarget, { bytes: server.settings.minFreeBytes, percent: server.settings.minFreePercent }).catch(async (error: unknown) => {
    // Refused for free space: it does not run, and the admins get a mail saying so.
    if (error instanceof InsufficientSpaceError) await reportRefusal(server.name, request.type, error.message).catch(() => {});
    throw error;
  });
  const mode = request.type === "full" && request.accounts === undefined && server.backupMode === "auto_grouped" ? "auto_grouped" : "standard";
  const session = await createSession({
    serverId: serverRow.id,
    type: request.type,
    mode,
    requestedAccounts: requested,
    requestedBy: request.requestedBy,
    excludeBlobs: request.excludeBlobs,
    isJobAlive: async (jobId) => (await serverQueue(server.name).getJob(jobId)) !== undefined,
  });
  if (session.replaced) await markLeftBehind(new BackupTarget(server.backupTarget, server.name), session.replaced);
  try {
    const job = await enqueueJob(server.name, "backup.start", { sessionId: session.id });
    await setJob(session.id, job.id!);
    return { sessionId: session.id, label: session.label, jobId: job.id!, server: server.name, type: request.type, mode };
  } catch (error) {
    await finishSession(session.id, "failed", { error: `could not queue the backup: ${(error as Error).message}` });
    throw error;
  }
}
