/**
 * backupquery: sessions by server, label, type, status, time window and account, where the
 * account is found by any name it ever had; the catalog answers, and each matching session says
 * which name the account had in it.
 */
import { z } from "zod";
import { consolePool } from "../db/console-db.ts";
import { accountsByAnyName } from "../directory/resolve-account.ts";
import { InvalidInputError } from "../errors.ts";
import { parseTime } from "../time/parse-time.ts";
import { SessionNotFoundError } from "./errors.ts";
import { wholeNumber } from "../validation/whole-number.ts";
import { assertServerExists } from "../directory/list-servers.ts";

export const sessionQueryInput = z.object({
  server: z.string().min(1).optional(),
  account: z.string().trim().min(1).optional(),
  type: z.enum(["full", "incremental"], "type is full or incremental").optional(),
  status: z.enum(["queued", "running", "completed", "failed", "aborted", "interrupted"]).optional(),
  label: z.string().trim().min(1).optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  page: wholeNumber("page").default(1),
  pageSize: wholeNumber("pageSize", { max: 200 }).default(50),
});

export interface SessionSummary {
  id: number;
  label: string;
  server: string;
  type: "full" | "incremental";
  mode: "standard" | "auto_grouped";
  /** backup --exclude-blobs: metadata only, the message bodies are not on the target. */
  excludeBlobs: boolean;
  /** While it runs: sealing, redo, accounts or publishing, and since when. */
  phase: string | null;
  phaseStartedAt: string | null;
  status: string;
  requestedBy: string;
  jobId: string | null;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  redoFromSeq: number | null;
  redoThroughSeq: number | null;
  redoSegments: number;
  accountsTotal: number;
  accountsDone: number;
  fullAccounts: number;
  currentAccount: string | null;
  bytesWritten: number;
  blobsReferenced: number;
  blobBytesReferenced: number;
  blobsNew: number;
  blobBytesNew: number;
  /** Blob bytes the session refers to per blob byte it had to store (higher: more dedup); null when it stored none. */
  dedupRatio: number | null;
  error: string | null;
  warnings: string[];
  /** The last verify: when, and whether the session was sound; null when never verified. */
  verify: { at: string; ok: boolean; problems: number; first: string | null } | null;
  /** With an account filter: the name that account had in this session. */
  accountEmail?: string;
}

const SELECT = `
  SELECT s.*, v.name AS server_name,
         (SELECT count(*) FROM session_account a WHERE a.session_id = s.id AND a.kind = 'full')::int AS full_accounts
    FROM backup_session s JOIN server v ON v.id = s.server_id`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function toSummary(r: any): SessionSummary {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    id: r.id,
    label: r.label,
    server: r.server_name,
    type: r.type,
    mode: r.mode,
    excludeBlobs: r.exclude_blobs === true,
    phase: r.phase ?? null,
    phaseStartedAt: r.phase_started_at?.toISOString() ?? null,
    status: r.status,
    requestedBy: r.requested_by,
    jobId: r.job_id,
    createdAt: r.created_at.toISOString(),
    startedAt: r.started_at?.toISOString() ?? null,
    endedAt: r.ended_at?.toISOString() ?? null,
    redoFromSeq: num(r.redo_from_seq),
    redoThroughSeq: num(r.redo_through_seq),
    redoSegments: r.redo_segments,
    accountsTotal: r.accounts_total,
    accountsDone: r.accounts_done,
    fullAccounts: r.full_accounts,
    currentAccount: r.current_account,
    bytesWritten: Number(r.bytes_written),
    blobsReferenced: r.blobs_referenced,
    blobBytesReferenced: Number(r.blob_bytes_referenced),
    blobsNew: r.blobs_new,
    blobBytesNew: Number(r.blob_bytes_new),
    dedupRatio: Number(r.blob_bytes_new) > 0 ? Number(r.blob_bytes_referenced) / Number(r.blob_bytes_new) : null,
    error: r.error,
    warnings: r.warnings ?? [],
    verify: r.verified_at
      ? { at: r.verified_at.toISOString(), ok: r.verify_ok, problems: (r.verify_problems ?? []).length, first: r.verify_problems?.[0] ? `${r.verify_problems[0].path}: ${r.verify_problems[0].message}` : null }
      : null,
    ...(r.account_email ? { accountEmail: r.account_email } : {}),
  };
}

export async function querySessions(raw: Record<string, unknown>): Promise<{ sessions: SessionSummary[]; total: number; page: number; pageSize: number }> {
  const input = sessionQueryInput.parse(raw);
  if (input.server) await assertServerExists(input.server);
  const from = input.from ? parseTime(input.from, "from time") : null;
  const to = input.to ? parseTime(input.to, "to time") : null;
  if (from && to && from > to) throw new InvalidInputError("the from time is after the to time");
  const accountIds = input.account ? (await accountsByAnyName(input.account)).map((a) => a.id) : null;
  const where = [
    "($1::text IS NULL OR v.name = $1)",
    "($2::backup_type IS NULL OR s.type = $2)",
    "($3::session_status IS NULL OR s.status = $3)",
    "($4::text IS NULL OR s.label = $4)",
    "($5::timestamptz IS NULL OR s.created_at >= $5)",
    "($6::timestamptz IS NULL OR s.created_at <= $6)",
  ];
  const params: unknown[] = [input.server ?? null, input.type ?? null, input.status ?? null, input.label ?? null, from, to];
  let select = SELECT;
  if (accountIds) {
    params.push(accountIds);
    select = SELECT.replace("FROM backup_session s", `, sa.email AS account_email FROM backup_session s JOIN session_account sa ON sa.session_id = s.id AND sa.account_id = ANY($${params.length}::uuid[])`);
  }
  params.push(input.pageSize, (input.page - 1) * input.pageSize);
  const { rows } = await consolePool().query(
    `${select} WHERE ${where.join(" AND ")} ORDER BY s.created_at DESC, s.id DESC LIMIT $${params.length - 1} OFFSET $${params.length}`,
    params,
  );
  const { rows: count } = await consolePool().query<{ n: number }>(
    `SELECT count(*)::int AS n FROM backup_session s JOIN server v ON v.id = s.server_id
       ${accountIds ? `JOIN session_account sa ON sa.session_id = s.id AND sa.account_id = ANY($7::uuid[])` : ""}
      WHERE ${where.join(" AND ")}`,
    params.slice(0, accountIds ? 7 : 6),
  );
  return { sessions: rows.map(toSummary), total: count[0]!.n, page: input.page, pageSize: input.pageSize };
}

export interface SessionDetail extends SessionSummary {
  accounts: { accountId: string; email: string; kind: string; reason: string; changeNumber: number | null; redoSeq: number | null; items: number; messages: number; bytes: number; currentEmail: string | null }[];
}

export async function getSession(server: string | undefined, label: string, q?: string): Promise<SessionDetail> {
  const { rows } = await consolePool().query(`${SELECT} WHERE ($1::text IS NULL OR v.name = $1) AND s.label = $2`, [server ?? null, label]);
  if (!rows[0]) throw new SessionNotFoundError(label);
  if (rows.length > 1) throw new InvalidInputError(`several servers have a session ${label}: name the server`);
  const summary = toSummary(rows[0]);
  const { rows: accounts } = await consolePool().query(
    `SELECT a.account_id, a.email, a.kind, a.reason, a.change_number, a.redo_seq, a.items, a.messages, a.bytes, acc.email AS current_email
       FROM session_account a LEFT JOIN account acc ON acc.id = a.account_id
      WHERE a.session_id = $1
        AND ($2::text IS NULL OR a.email ILIKE '%' || $2 || '%'
             OR EXISTS (SELECT 1 FROM account_name n WHERE n.account_id = a.account_id AND n.email ILIKE '%' || $2 || '%'))
      ORDER BY a.kind, a.email LIMIT 2000`,
    [summary.id, q?.trim() || null],
  );
  return {
    ...summary,
    accounts: accounts.map((a) => ({
      accountId: a.account_id,
      email: a.email,
      kind: a.kind,
      reason: a.reason,
      changeNumber: a.change_number === null ? null : Number(a.change_number),
      redoSeq: a.redo_seq === null ? null : Number(a.redo_seq),
      items: a.items,
      messages: a.messages,
      bytes: Number(a.bytes),
      currentEmail: a.current_email,
    })),
  };
}
