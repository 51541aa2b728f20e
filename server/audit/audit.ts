/** The audit log: every mutating action, by whom, with which parameters, and what came of it. */
import { z } from "zod";
import { prisma } from "../db/console-db.ts";
import { parseTime } from "../time/parse-time.ts";

export interface AuditRecord {
  actor: string;
  role: string;
  action: string;
  target?: string;
  params?: unknown;
  outcome: "ok" | "refused" | "failed";
  status: number;
  message?: string;
}

/** Secrets never reach the log. */
function redact(params: unknown): unknown {
  if (!params || typeof params !== "object") return params ?? {};
  return Object.fromEntries(Object.entries(params as Record<string, unknown>).map(([k, v]) => [k, /password|token/i.test(k) ? "(redacted)" : v]));
}

export async function recordAudit(entry: AuditRecord): Promise<void> {
  await prisma().auditEntry.create({
    data: {
      actor: entry.actor,
      role: entry.role,
      action: entry.action,
      target: entry.target ?? "",
      params: JSON.parse(JSON.stringify(redact(entry.params) ?? {})),
      outcome: entry.outcome,
      status: entry.status,
      message: (entry.message ?? "").slice(0, 2000),
    },
  });
}

export const auditQueryInput = z.object({
  actor: z.string().optional(),
  action: z.string().optional(),
  outcome: z.enum(["ok", "refused", "failed"]).optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(200).default(50),
});

export async function queryAudit(raw: Record<string, unknown>) {
  const input = auditQueryInput.parse(raw);
  const where = {
    ...(input.actor ? { actor: { contains: input.actor, mode: "insensitive" as const } } : {}),
    ...(input.action ? { action: { startsWith: input.action } } : {}),
    ...(input.outcome ? { outcome: input.outcome } : {}),
    ...(input.from || input.to ? { at: { ...(input.from ? { gte: parseTime(input.from, "from time") } : {}), ...(input.to ? { lte: parseTime(input.to, "to time") } : {}) } } : {}),
  };
  const [rows, total] = await Promise.all([
    prisma().auditEntry.findMany({ where, orderBy: { at: "desc" }, skip: (input.page - 1) * input.pageSize, take: input.pageSize }),
    prisma().auditEntry.count({ where }),
  ]);
  return { entries: rows.map((r) => ({ ...r, id: Number(r.id), at: r.at.toISOString() })), total, page: input.page, pageSize: input.pageSize };
}
