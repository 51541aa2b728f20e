/**
 * Restore runs as the console shows them: the plan and request they were started with, progress
 * (accounts done of total, the one in progress), timings and outcome. The run row outlives Redis.
 */
import { z } from "zod";
import { prisma } from "../db/console-db.ts";
import { MailvaultError } from "../errors.ts";
import type { RestorePlan, RestoreRequest } from "./plan-restore.ts";
import { wholeNumber } from "../validation/whole-number.ts";
import { assertServerExists } from "../directory/list-servers.ts";

export const listRestoreRunsInput = z.object({
  server: z.string().trim().min(1).optional(),
  status: z.string().trim().min(1).optional(),
  limit: wholeNumber("limit", { max: 500 }).default(100),
});

export interface RestoreRunDetail {
  id: number;
  label: string;
  server: string;
  /** queued, running, failing, completed, partial, failed or aborted. */
  status: string;
  requestedBy: string;
  plan: RestorePlan | null;
  request: RestoreRequest | null;
  /** The run this one undoes (restore --undo). */
  undoOf: string | null;
  /** When ended: `{ restored, failures, skipped, fullBackup }`. */
  result: unknown;
  error: string | null;
  jobId: string | null;
  accountsTotal: number;
  accountsDone: number;
  currentAccount: string | null;
  abortRequested: boolean;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  /** From start to end, or to now while it runs; null before it starts. */
  durationMs: number | null;
}

export class RestoreRunNotFoundError extends MailvaultError {
  constructor(what: string) {
    super("not_found", "restore_not_found", `no restore run ${what}`);
  }
}

type Row = NonNullable<Awaited<ReturnType<ReturnType<typeof prisma>["restoreRun"]["findUnique"]>>>;

export function toRestoreRunDetail(row: Row, now = new Date()): RestoreRunDetail {
  const stored = (row.plan ?? {}) as { plan?: RestorePlan; request?: RestoreRequest; undoOf?: string };
  return {
    id: row.id,
    label: row.label,
    server: row.server,
    status: row.status,
    requestedBy: row.requestedBy,
    plan: stored.plan ?? null,
    request: stored.request ?? null,
    undoOf: stored.undoOf ?? null,
    result: row.result ?? null,
    error: row.error,
    jobId: row.jobId,
    accountsTotal: row.accountsTotal,
    accountsDone: row.accountsDone,
    currentAccount: row.currentAccount,
    abortRequested: row.abortRequested,
    createdAt: row.createdAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    endedAt: row.endedAt?.toISOString() ?? null,
    durationMs: row.startedAt ? (row.endedAt ?? now).getTime() - row.startedAt.getTime() : null,
  };
}

export async function getRestoreRun(label: string): Promise<RestoreRunDetail> {
  const row = await prisma().restoreRun.findUnique({ where: { label } });
  if (!row) throw new RestoreRunNotFoundError(label);
  return toRestoreRunDetail(row);
}

export async function getRestoreRunById(id: number): Promise<RestoreRunDetail | null> {
  const row = await prisma().restoreRun.findUnique({ where: { id } });
  return row ? toRestoreRunDetail(row) : null;
}

export async function listRestoreRuns(raw: z.input<typeof listRestoreRunsInput>): Promise<RestoreRunDetail[]> {
  const input = listRestoreRunsInput.parse(raw);
  if (input.server) await assertServerExists(input.server);
  const rows = await prisma().restoreRun.findMany({
    where: { ...(input.server ? { server: input.server } : {}), ...(input.status ? { status: input.status } : {}) },
    orderBy: { createdAt: "desc" },
    take: input.limit,
  });
  return rows.map((row) => toRestoreRunDetail(row));
}
