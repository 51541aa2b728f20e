/** The audit log: every mutating action, by whom, with which parameters, and what came of it. */
import { z } from "zod";
import { prisma } from "../db/console-db.ts";
import { parseTime } from "../time/parse-time.ts";
import { wholeNumber } from "../validation/whole-number.ts";

export interface AuditRecord {
  actor: string;
  role: string;
  action: string;
  target?: string;
  params?: unknown;
  outcome: "ok" | "refused" | "failed" | "pending";
  status: number;
  message?: string;
  /** The client's address, for a console request. */
  address?: string;
}

/** Parameter names whose values never reach the log, at any depth ("newPassword", "apiKey" too). */
const SECRET = /password|passwd|passphrase|secret|token|key$/i;
/** How deep, how many items and how many bytes of parameters an entry keeps. */
const MAX_DEPTH = 8;
const MAX_ITEMS = 100;
export const MAX_PARAM_BYTES = 16 * 1024;

/** Text PostgreSQL can store: no NUL (U+FFFD in its place), and at most `max` characters. */
function storable(text: string, max = 2000): string {
  const clean = text.replaceAll("\u0000", "\uFFFD");
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

function sanitize(value: unknown, depth: number): unknown {
  if (typeof value === "string") return storable(value);
  if (value === null || typeof value === "number" || typeof value === "boolean") return value;
  if (typeof value !== "object") return value === undefined ? null : String(value);
  if (depth >= MAX_DEPTH) return "(nested too deep)";
  if (Array.isArray(value)) {
    const kept = value.slice(0, MAX_ITEMS).map((v) => sanitize(v, depth + 1));
    return value.length > MAX_ITEMS ? [...kept, `(${value.length - MAX_ITEMS} more)`] : kept;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  const kept = entries.slice(0, MAX_ITEMS).map(([k, v]) => [storable(k, 200), SECRET.test(k) ? "(redacted)" : sanitize(v, depth + 1)]);
  if (entries.length > MAX_ITEMS) kept.push(["(more)", `${entries.length - MAX_ITEMS} more fields`]);
  return Object.fromEntries(kept);
}

/**
 * What an entry stores of a call's parameters: secrets redacted at every depth, text without
 * NUL, nesting, lists and size capped. Whatever a caller sends, the entry can be written.
 */
export function auditParams(params: unknown): unknown {
  const clean = sanitize(params ?? {}, 0);
  const bytes = Buffer.byteLength(JSON.stringify(clean));
  return bytes > MAX_PARAM_BYTES ? { "(truncated)": `${bytes} bytes of parameters, over the ${MAX_PARAM_BYTES} the audit log keeps` } : clean;
}

/**
 * What a change's entry keeps of a request body: the input as its schema reads it (unknown fields
 * dropped, defaults filled in), or, when the body does not parse, only the fields the schema
 * knows. Never the body as sent.
 */
export function parsedParams(schema: z.ZodType, body: unknown): unknown {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  if (!(schema instanceof z.ZodObject) || typeof body !== "object" || body === null || Array.isArray(body)) return { "(input)": `not readable as this call's input (${body === null ? "null" : Array.isArray(body) ? "a list" : typeof body})` };
  const known = schema.shape as Record<string, unknown>;
  return Object.fromEntries(Object.entries(body).filter(([name]) => Object.hasOwn(known, name)));
}

function row(entry: AuditRecord) {
  return {
    actor: storable(entry.actor, 320),
    role: entry.role,
    action: entry.action,
    target: storable(entry.target ?? "", 500),
    params: auditParams(entry.params) as object,
    outcome: entry.outcome,
    status: entry.status,
    message: storable(entry.message ?? ""),
    address: storable(entry.address ?? "", 100),
  };
}

export async function recordAudit(entry: AuditRecord): Promise<void> {
  await prisma().auditEntry.create({ data: row(entry) });
}

/**
 * Writes a change's entry before the change is made, as `pending`: a change whose entry cannot
 * be written is not made (the caller refuses it), and one that is made is never unrecorded. A
 * crash before `finishAudit` leaves it `pending`, which says just that. Returns the entry's id.
 */
export async function beginAudit(entry: Omit<AuditRecord, "outcome" | "status" | "message">): Promise<bigint> {
  const created = await prisma().auditEntry.create({ data: row({ ...entry, outcome: "pending", status: 0 }), select: { id: true } });
  return created.id;
}

export async function finishAudit(id: bigint, result: Pick<AuditRecord, "outcome" | "status" | "message"> & { role?: string }): Promise<void> {
  await prisma().auditEntry.update({
    where: { id },
    data: { outcome: result.outcome, status: result.status, message: storable(result.message ?? ""), ...(result.role !== undefined ? { role: result.role } : {}) },
  });
}

export const auditQueryInput = z.object({
  actor: z.string().optional(),
  action: z.string().optional(),
  outcome: z.enum(["ok", "refused", "failed", "pending"]).optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  page: wholeNumber("page").default(1),
  pageSize: wholeNumber("pageSize", { max: 200 }).default(50),
});

/**
 * Matches are counted exactly up to this many (or to the last page, once it is asked for); beyond,
 * "1,000+". Each counted match may cost a read of its table page (a contains-filter's trigram
 * index must be rechecked against the row; pages not yet vacuumed must be visited): counting to
 * 10,000 took up to 300 ms over a million rows, to 1,000 a tenth of that.
 */
export const COUNT_AT_LEAST = 1_000;

/**
 * The total a page shows: the count when it is under the cap; past the cap, exact once the last
 * page has been read (`seen` entries in all, `atEnd`), else "at least" what is known.
 */
function pageTotal(counted: number, seen: number, atEnd: boolean): { total: number; totalExact: boolean } {
  if (counted <= COUNT_AT_LEAST) return { total: counted, totalExact: true };
  if (atEnd) return { total: seen, totalExact: true };
  return { total: Math.max(COUNT_AT_LEAST, seen), totalExact: false };
}

export async function queryAudit(raw: Record<string, unknown>) {
  const input = auditQueryInput.parse(raw);
  const where = {
    ...(input.actor ? { actor: { contains: input.actor, mode: "insensitive" as const } } : {}),
    ...(input.action ? { action: { startsWith: input.action } } : {}),
    ...(input.outcome ? { outcome: input.outcome } : {}),
    ...(input.from || input.to ? { at: { ...(input.from ? { gte: parseTime(input.from, "from time") } : {}), ...(input.to ? { lte: parseTime(input.to, "to time") } : {}) } } : {}),
  };
  // Counting every match of a broad filter over a million rows costs more than the page itself:
  // matches are counted up to COUNT_AT_LEAST, and the answer says whether that is the whole. The
  // page is read one row long, so a page past that count still knows whether another follows.
  const offset = (input.page - 1) * input.pageSize;
  const [found, counted] = await Promise.all([
    prisma().auditEntry.findMany({ where, orderBy: { at: "desc" }, skip: offset, take: input.pageSize + 1 }),
    prisma().auditEntry.findMany({ where, select: { id: true }, take: COUNT_AT_LEAST + 1 }),
  ]);
  const rows = found.slice(0, input.pageSize);
  return {
    entries: rows.map((r) => ({ ...r, id: Number(r.id), at: r.at.toISOString() })),
    // A page past the end has seen nothing: all that is known then is "1,000+".
    ...pageTotal(counted.length, rows.length ? offset + rows.length : 0, rows.length > 0 && found.length <= input.pageSize),
    page: input.page,
    pageSize: input.pageSize,
  };
}
