/**
 * Asking for a restore drill (CLI `drill`, the server page's button, a schedule's `r` entry), and
 * reading drills back. One drill runs at a time per server; a drill whose worker died (its
 * heartbeat stale) is marked interrupted when the next one is asked for.
 */
import { z } from "zod";
import { prisma } from "../db/console-db.ts";
import { accountsByAnyName } from "../directory/resolve-account.ts";
import { assertServerExists } from "../directory/list-servers.ts";
import { InvalidInputError, MailvaultError } from "../errors.ts";
import { enqueueJob } from "../jobs/queues.ts";
import { createWithFreeLabel } from "../restore/submit-restore.ts";
import { wholeNumber } from "../validation/whole-number.ts";
import type { DrillAccountEvidence } from "./run-drill.ts";

export const MAX_DRILL_ACCOUNTS = 20;

/** What a drill restores: N accounts chosen at random (weighted), or these; at their latest state or random points. */
export const drillRequest = z.object({
  accounts: z
    .union([
      z.number().int().min(1, "a drill restores at least 1 account").max(MAX_DRILL_ACCOUNTS, `a drill restores at most ${MAX_DRILL_ACCOUNTS} accounts`),
      z.array(z.string().trim().min(3)).min(1).max(MAX_DRILL_ACCOUNTS, `a drill restores at most ${MAX_DRILL_ACCOUNTS} accounts`),
    ])
    .default(3),
  at: z.enum(["latest", "random"], { error: "latest or random" }).default("random"),
});
export type DrillRequest = z.output<typeof drillRequest>;

export const drillInput = drillRequest.extend({
  server: z.string().trim().min(1, "name the server (-s)"),
  requestedBy: z.string().max(200).default("console"),
});

/** A heartbeat older than this: the drill's worker is gone. */
const STALE_MS = 60_000;

export class DrillRunningError extends MailvaultError {
  constructor(label: string) {
    super("conflict", "drill_running", `${label} is still running on this server: wait for it, then drill again`);
  }
}

export class DrillNotFoundError extends MailvaultError {
  constructor(label: string) {
    super("not_found", "drill_not_found", `no restore drill ${label}`);
  }
}

export async function submitDrill(raw: z.input<typeof drillInput>): Promise<{ label: string; id: number; jobId: string }> {
  const input = drillInput.parse(raw);
  await assertServerExists(input.server);
  if (Array.isArray(input.accounts)) {
    for (const name of input.accounts) {
      const found = await accountsByAnyName(name);
      if (!found.some((a) => a.server === input.server)) throw new InvalidInputError(`${name} lives on ${found[0]!.server}, not ${input.server}`);
    }
  }
  const active = await prisma().restoreDrill.findMany({ where: { server: input.server, status: { in: ["queued", "running"] } } });
  for (const d of active) {
    if (Date.now() - d.heartbeatAt.getTime() < STALE_MS) throw new DrillRunningError(d.label);
    await prisma().restoreDrill.update({ where: { id: d.id }, data: { status: "interrupted", endedAt: new Date(), summary: "its worker stopped before it ended (no heartbeat for a minute)" } });
  }
  const drill = await createWithFreeLabel(
    (label) => prisma().restoreDrill.create({ data: { label, server: input.server, status: "queued", requestedBy: input.requestedBy, request: { accounts: input.accounts, at: input.at } } }),
    "drill",
  );
  const job = await enqueueJob(input.server, "drill.run", { drillId: drill.id });
  await prisma().restoreDrill.update({ where: { id: drill.id }, data: { jobId: job.id! } });
  return { label: drill.label, id: drill.id, jobId: job.id! };
}

export interface DrillView {
  label: string;
  server: string;
  status: string;
  requestedBy: string;
  request: DrillRequest;
  evidence: DrillAccountEvidence[];
  summary: string | null;
  rtoSecondsPerMib: number | null;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
}

type Row = NonNullable<Awaited<ReturnType<ReturnType<typeof prisma>["restoreDrill"]["findUnique"]>>>;

function toView(row: Row): DrillView {
  return {
    label: row.label,
    server: row.server,
    status: row.status,
    requestedBy: row.requestedBy,
    request: row.request as DrillRequest,
    evidence: row.evidence as unknown as DrillAccountEvidence[],
    summary: row.summary,
    rtoSecondsPerMib: row.rtoSecondsPerMib,
    createdAt: row.createdAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    endedAt: row.endedAt?.toISOString() ?? null,
    durationMs: row.startedAt && row.endedAt ? row.endedAt.getTime() - row.startedAt.getTime() : null,
  };
}

export const listDrillsInput = z.object({
  server: z.string().trim().min(1).optional(),
  limit: wholeNumber("limit", { max: 500 }).default(50),
});

export async function listDrills(raw: z.input<typeof listDrillsInput>): Promise<DrillView[]> {
  const input = listDrillsInput.parse(raw);
  if (input.server) await assertServerExists(input.server);
  const rows = await prisma().restoreDrill.findMany({ where: input.server ? { server: input.server } : {}, orderBy: { createdAt: "desc" }, take: input.limit });
  return rows.map(toView);
}

export async function getDrill(label: string): Promise<DrillView> {
  const row = await prisma().restoreDrill.findUnique({ where: { label } });
  if (!row) throw new DrillNotFoundError(label);
  return toView(row);
}

/** Each server's newest ended drill, for the dashboard and the red flags. */
export async function lastDrills(): Promise<Map<string, DrillView>> {
  const rows = await prisma().restoreDrill.findMany({
    where: { status: { in: ["passed", "failed", "error"] } },
    orderBy: { createdAt: "desc" },
    distinct: ["server"],
  });
  return new Map(rows.map((r) => [r.server, toView(r)]));
}
