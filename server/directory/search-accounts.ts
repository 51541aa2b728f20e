/**
 * Account search by any name an account ever had.
 *
 * `account_name` holds every name, the current one included, so one index serves both: a
 * text_pattern_ops btree answers prefixes, a trigram GIN index answers substrings. Queries of one
 * or two characters match by prefix only (a trigram index cannot help them, and a substring that
 * short matches nearly everything). Each account appears once, with the name that matched: its
 * current name when that matches, else the most recent former name that does. Exact matches rank
 * first, then prefix matches, then the rest in email order.
 */
import { z } from "zod";
import { consolePool } from "../db/console-db.ts";
import { wholeNumber } from "../validation/whole-number.ts";
import { assertServerExists } from "./list-servers.ts";

export const accountStatusFilter = z.enum(["active", "maintenance", "locked", "closed", "deleted"]);

export const searchAccountsInput = z.object({
  q: z.string().trim().toLowerCase().max(320, "q is longer than any email address").default(""),
  server: z.string().min(1).max(64).optional(),
  status: accountStatusFilter.optional(),
  page: wholeNumber("page").default(1),
  pageSize: wholeNumber("pageSize", { max: 200 }).default(25),
});

export type SearchAccountsInput = z.input<typeof searchAccountsInput>;

export interface AccountHit {
  id: string;
  email: string;
  displayName: string;
  status: "active" | "maintenance" | "locked" | "closed";
  server: string;
  createdAt: string;
  deletedAt: string | null;
  /** The former name that matched the query; null when the current name matched or no query. */
  matchedFormerName: string | null;
  /** How many names the account had before its current one. */
  formerNameCount: number;
}

export interface AccountPage {
  items: AccountHit[];
  total: number;
  page: number;
  pageSize: number;
}

const MIN_SUBSTRING = 3;

function likeEscape(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

interface Row {
  id: string;
  email: string;
  display_name: string;
  status: AccountHit["status"];
  server: string;
  created_at: Date;
  deleted_at: Date | null;
  matched_email: string | null;
  matched_current: boolean | null;
  former_names: number;
  total: string;
}

export async function searchAccounts(input: SearchAccountsInput): Promise<AccountPage> {
  const { q, server, status, page, pageSize } = searchAccountsInput.parse(input);
  if (server) await assertServerExists(server);
  const prefix = `${likeEscape(q)}%`;
  const pattern = q.length >= MIN_SUBSTRING ? `%${likeEscape(q)}%` : prefix;
  const filters = `($1::text IS NULL OR s.name = $1)
      AND ($2::text IS NULL
           OR ($2 = 'deleted' AND a.deleted_at IS NOT NULL)
           OR (a.deleted_at IS NULL AND a.status::text = $2))`;
  const columns = `a.id, a.email, a.display_name, a.status, s.name AS server, a.created_at, a.deleted_at`;
  const formerNames = `(SELECT count(*) FROM account_name f WHERE f.account_id = p.id AND f.valid_to IS NOT NULL)::int`;
  // The page is cut before former names are counted, so only its rows pay for that. Without a
  // query the page comes straight off the email index and the count is a plain count.
  const sql = q
    ? `WITH matched AS (
         SELECT DISTINCT ON (n.account_id)
                n.account_id, n.email AS matched_email, n.valid_to IS NULL AS matched_current
           FROM account_name n
          WHERE n.email LIKE $5
          ORDER BY n.account_id, n.valid_to IS NULL DESC, n.email LIKE $6 DESC, n.valid_to DESC
       ),
       hits AS (
         SELECT ${columns}, m.matched_email, m.matched_current,
                m.matched_email = $7 AS exact, m.matched_email LIKE $6 AS prefix
           FROM matched m
           JOIN account a ON a.id = m.account_id
           JOIN server s ON s.id = a.server_id
          WHERE ${filters}
       )
       SELECT p.*, (SELECT count(*) FROM hits) AS total, ${formerNames} AS former_names
         FROM (SELECT * FROM hits ORDER BY exact DESC, prefix DESC, email, id LIMIT $3 OFFSET $4) p
        ORDER BY exact DESC, prefix DESC, email, id`
    : `SELECT p.*, (SELECT count(*) FROM account a JOIN server s ON s.id = a.server_id WHERE ${filters}) AS total,
              ${formerNames} AS former_names
         FROM (SELECT ${columns}, NULL::text AS matched_email, NULL::boolean AS matched_current
                 FROM account a JOIN server s ON s.id = a.server_id
                WHERE ${filters}
                ORDER BY a.email, a.id LIMIT $3 OFFSET $4) p
        ORDER BY email, id`;
  const run = (limit: number, offset: number) =>
    consolePool().query<Row>(sql, [server ?? null, status ?? null, limit, offset, ...(q ? [pattern, prefix, q] : [])]);

  const { rows } = await run(pageSize, (page - 1) * pageSize);
  // A page past the end has no row to carry the total: ask for the first row instead.
  const totalRow = rows[0] ?? (page > 1 ? (await run(1, 0)).rows[0] : undefined);
  const total = totalRow ? Number(totalRow.total) : 0;
  return {
    items: rows.map((r) => ({
      id: r.id,
      email: r.email,
      displayName: r.display_name,
      status: r.status,
      server: r.server,
      createdAt: r.created_at.toISOString(),
      deletedAt: r.deleted_at?.toISOString() ?? null,
      matchedFormerName: r.matched_current === false ? r.matched_email : null,
      formerNameCount: r.former_names,
    })),
    total,
    page,
    pageSize,
  };
}
