/**
 * Account search by any name an account ever had.
 *
 * `account_name` holds every name, the current one included, so one index serves both: a
 * text_pattern_ops btree answers prefixes (`^@`), a trigram GIN index answers substrings. Queries
 * of one or two characters match by prefix only (a trigram index cannot help them, and a
 * substring that short matches nearly everything). Each account appears once, with the name that
 * matched: its current name when that matches, else the most recent former name that does. Exact
 * matches rank first, then prefix matches, then the rest, each in email order.
 *
 * Two ways to answer, chosen per page by a sample of about 1,000 accounts:
 * - **collect**: find the matching names by index, keep one per account, sort. Its cost grows with
 *   the number of matches, and it counts them exactly.
 * - **walk**: collect the exact and prefix matches (a btree range), then read accounts in email
 *   order and test each one's names until the page is full. Its cost grows with the page's depth
 *   divided by the share of accounts that match, so it is the way for broad queries ("example"
 *   matches every account). The matches it does not reach are not counted: the total is the
 *   sample's estimate and `totalExact` is false. The walk reads at most a budget of accounts;
 *   when the matches are bunched in email order and the budget runs out first, the page is
 *   collected after all.
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
  /** copies: only prefixed copies a restore made; originals: all but those. */
  kind: z.enum(["copies", "originals"], { error: "kind is copies or originals" }).optional(),
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
  /** For a prefixed copy a restore made: the current email of the account it copies. */
  copyOf: string | null;
}

export interface AccountPage {
  items: AccountHit[];
  /** Exact, or an estimate when `totalExact` is false (a broad query answered by walking). */
  total: number;
  totalExact: boolean;
  page: number;
  pageSize: number;
}

/** How a query is answered; "auto" decides by sample. The others are for tests and benches. */
export type SearchStrategy = "auto" | "collect" | "walk";

const MIN_SUBSTRING = 3;
/** Below this many accounts every query is collected: collecting them all is cheap. */
const WALK_FROM_ACCOUNTS = 20_000;
/** A walk reads at most this many times the accounts the sample says it needs (and at least WALK_MIN_BUDGET). */
const WALK_BUDGET_FACTOR = 3;
const WALK_MIN_BUDGET = 2_000;
const SAMPLE_ACCOUNTS = 1_000;

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
  copy_of: string | null;
  matched_email: string | null;
  matched_current: boolean | null;
  former_names: number;
  total?: string;
}

/** Positional parameters, numbered as they are added. */
class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

type Parsed = z.output<typeof searchAccountsInput>;

interface Found {
  rows: Row[];
  total: number;
  /** False when the total is the sample's estimate. */
  exact: boolean;
}

/** The server, status and kind filters, on `a` (account) and `s` (server). */
function filters(input: Parsed, p: Params): string {
  const server = p.add(input.server ?? null);
  const status = p.add(input.status ?? null);
  const kind = input.kind ? `AND a.copy_of IS ${input.kind === "copies" ? "NOT NULL" : "NULL"}` : "";
  return `(${server}::text IS NULL OR s.name = ${server})
      AND (${status}::text IS NULL
           OR (${status} = 'deleted' AND a.deleted_at IS NOT NULL)
           OR (a.deleted_at IS NULL AND a.status::text = ${status})) ${kind}`;
}

/** The SQL a query is built from; each call numbers its own parameters. */
function fragments(input: Parsed, p: Params) {
  const q = p.add(input.q);
  const pattern = input.q.length >= MIN_SUBSTRING ? p.add(`%${likeEscape(input.q)}%`) : null;
  return {
    q,
    matches: (column: string) => (pattern ? `${column} LIKE ${pattern}` : `${column} ^@ ${q}`),
    filters: filters(input, p),
    /** The name an account is found by: the current one when it matches, else the latest former one, prefix matches first (ties by name, so both ways pick the same). */
    preference: `n.valid_to IS NULL DESC, n.email ^@ ${q} DESC, n.valid_to DESC, n.email`,
  };
}

const COLUMNS = `a.id, a.email, a.display_name, a.status, s.name AS server, a.created_at, a.deleted_at, a.copy_of`;
const FORMER_NAMES = `(SELECT count(*) FROM account_name f WHERE f.account_id = p.id AND f.valid_to IS NOT NULL)::int`;

/** Prefix matches (exact ones among them) rank before the rest, by the name each account was found by. */
const PREFIX_TIER = { candidates: (q: string) => `c.email ^@ ${q}`, where: (q: string) => `m.matched_email ^@ ${q}` };
const REST_TIER = (q: string) => `NOT (m.matched_email ^@ ${q})`;

/**
 * Collects the matches (of one tier when `tier` is given, among the accounts with a name that
 * `candidates` selects), ranks and pages them; every row carries the exact total.
 */
async function collect(input: Parsed, offset: number, limit: number, tier?: { candidates: (q: string) => string; where: (q: string) => string }): Promise<Found> {
  const p = new Params();
  const f = fragments(input, p);
  const among = tier ? ` AND n.account_id IN (SELECT c.account_id FROM account_name c WHERE ${tier.candidates(f.q)})` : "";
  const sql = `WITH matched AS (
       SELECT DISTINCT ON (n.account_id) n.account_id, n.email AS matched_email, n.valid_to IS NULL AS matched_current
         FROM account_name n
        WHERE ${f.matches("n.email")}${among}
        ORDER BY n.account_id, ${f.preference}
     ),
     hits AS (
       SELECT ${COLUMNS}, m.matched_email, m.matched_current,
              m.matched_email = ${f.q} AS exact, m.matched_email ^@ ${f.q} AS prefix
         FROM matched m
         JOIN account a ON a.id = m.account_id
         JOIN server s ON s.id = a.server_id
        WHERE ${f.filters}${tier ? ` AND ${tier.where(f.q)}` : ""}
     )
     SELECT p.*, (SELECT count(*) FROM hits) AS total, ${FORMER_NAMES} AS former_names
       FROM (SELECT * FROM hits ORDER BY exact DESC, prefix DESC, email, id LIMIT ${p.add(limit)} OFFSET ${p.add(offset)}) p
      ORDER BY exact DESC, prefix DESC, email, id`;
  const { rows } = await consolePool().query<Row>(sql, p.values);
  if (rows.length || offset === 0) return { rows, total: rows.length ? Number(rows[0]!.total) : 0, exact: true };
  // A page past the end has no row to carry the total: ask for the first row instead.
  return { rows, total: (await collect(input, 0, 1, tier)).total, exact: true };
}

/**
 * The lateral join that finds an account's matching name, for walking and sampling. The current
 * name is `account.email` (a rename changes both in one transaction), and it wins whenever it
 * matches: tested on the row at hand, it spares most accounts of a broad query a lookup of their
 * names. Only when it does not match are the former names read (the same preference otherwise).
 */
function matchedName(f: ReturnType<typeof fragments>): string {
  return `(SELECT a.email AS matched_email, true AS matched_current WHERE ${f.matches("a.email")}
           UNION ALL
           (SELECT n.email, false
              FROM account_name n
             WHERE n.account_id = a.id AND n.valid_to IS NOT NULL AND ${f.matches("n.email")}
             ORDER BY ${f.preference} LIMIT 1))
          LIMIT 1`;
}

/**
 * Walks the first `budget` accounts in email order and keeps those in the rest tier; null when
 * the budget ran out before the page was full and there are accounts beyond it.
 */
async function walk(input: Parsed, offset: number, limit: number, budget: number): Promise<Row[] | null> {
  const p = new Params();
  const f = fragments(input, p);
  const sql = `SELECT p.*, ${FORMER_NAMES} AS former_names
       FROM (SELECT ${COLUMNS}, m.matched_email, m.matched_current
               FROM (SELECT * FROM account ORDER BY email, id LIMIT ${p.add(budget)}) a
               JOIN server s ON s.id = a.server_id
              CROSS JOIN LATERAL (${matchedName(f)}) m
              WHERE ${f.filters} AND ${REST_TIER(f.q)}
              ORDER BY a.email, a.id LIMIT ${p.add(limit)} OFFSET ${p.add(offset)}) p
      ORDER BY email, id`;
  const { rows } = await consolePool().query<Row>(sql, p.values);
  if (rows.length === limit) return rows;
  const beyond = await consolePool().query("SELECT 1 FROM account ORDER BY email, id OFFSET $1 LIMIT 1", [budget]);
  return beyond.rowCount ? null : rows;
}

interface Sample {
  /** The share of all accounts in each tier. */
  share: { prefix: number; rest: number };
  /** The estimated number of accounts in each tier; exact when the sample was every account. */
  count: { prefix: number; rest: number };
  whole: boolean;
}

/** Samples about SAMPLE_ACCOUNTS accounts (the same pages every time, so totals hold still while paging). */
async function sample(input: Parsed, accounts: number): Promise<Sample> {
  const percent = Math.min(100, (100 * SAMPLE_ACCOUNTS) / accounts);
  const p = new Params();
  const f = fragments(input, p);
  const { rows } = await consolePool().query<{ seen: number; prefix: number; rest: number }>(
    `SELECT count(*)::int AS seen,
            (count(*) FILTER (WHERE ${f.filters} AND ${PREFIX_TIER.where(f.q)}))::int AS prefix,
            (count(*) FILTER (WHERE ${f.filters} AND ${REST_TIER(f.q)}))::int AS rest
       FROM account a TABLESAMPLE SYSTEM (${p.add(percent)}) REPEATABLE (0)
       JOIN server s ON s.id = a.server_id
       LEFT JOIN LATERAL (${matchedName(f)}) m ON true`,
    p.values,
  );
  const { seen, prefix, rest } = rows[0]!;
  const whole = percent >= 100;
  if (seen === 0) return { share: { prefix: 0, rest: 0 }, count: { prefix: 0, rest: 0 }, whole };
  const scale = whole ? 1 : accounts / seen;
  return { share: { prefix: prefix / seen, rest: rest / seen }, count: { prefix: Math.round(prefix * scale), rest: Math.round(rest * scale) }, whole };
}

async function accountCount(): Promise<number> {
  const { rows } = await consolePool().query<{ n: number }>("SELECT reltuples::float8 AS n FROM pg_class WHERE oid = 'account'::regclass");
  return Math.max(0, rows[0]?.n ?? 0);
}

/**
 * The cheaper way for this page, in accounts touched (about 10 µs each either way): collecting
 * touches every match; walking touches the prefix matches and then the accounts read until the
 * page is full, the page's depth divided by the share of accounts in the rest tier.
 */
async function chooseStrategy(input: Parsed, offset: number, limit: number): Promise<{ strategy: "collect" | "walk"; share?: Sample }> {
  const accounts = await accountCount();
  if (input.q.length < MIN_SUBSTRING || accounts < WALK_FROM_ACCOUNTS) return { strategy: "collect" };
  const share = await sample(input, accounts);
  const { prefix, rest } = share.share;
  const walking = rest > 0 ? prefix * accounts + (offset + limit) / rest : Infinity;
  return { strategy: walking < (prefix + rest) * accounts ? "walk" : "collect", share };
}

/** A broad query: its prefix matches, collected, then the walk from where the page falls in the rest. */
async function walkPage(input: Parsed, offset: number, limit: number, known?: Sample, budgetCap = Infinity): Promise<Found> {
  const share = known ?? (await sample(input, await accountCount()));
  const first = await collect(input, offset, limit, PREFIX_TIER);
  if (first.rows.length === limit) return withEstimate(first.rows, first.total, offset, limit, share);
  const from = Math.max(0, offset - first.total);
  const wanted = limit - first.rows.length;
  const budget = Math.min(budgetCap, Math.max(WALK_MIN_BUDGET, Math.ceil((WALK_BUDGET_FACTOR * (from + wanted)) / Math.max(share.share.rest, 1e-9))));
  const rest = await walk(input, from, wanted, budget);
  if (rest === null) return collect(input, offset, limit);
  const rows = [...first.rows, ...rest];
  // The walk came up short: it saw every match, so the total is known.
  if (rest.length < wanted && (rest.length > 0 || from === 0)) return { rows, total: first.total + from + rest.length, exact: true };
  return withEstimate(rows, first.total, offset, limit, share);
}

/** The collected tier's exact count plus the sample's estimate of the rest; a full page leaves room for one more. */
function withEstimate(rows: Row[], collected: number, offset: number, limit: number, share: Sample): Found {
  const atLeast = offset + rows.length + (rows.length === limit && !share.whole ? 1 : 0);
  return { rows, total: Math.max(collected + share.count.rest, atLeast), exact: share.whole };
}

/** No query: the page comes straight off the email index and the count is a plain count. */
async function listPage(input: Parsed, offset: number, limit: number): Promise<Found> {
  const p = new Params();
  const where = filters(input, p);
  const sql = `SELECT p.*, (SELECT count(*) FROM account a JOIN server s ON s.id = a.server_id WHERE ${where}) AS total, ${FORMER_NAMES} AS former_names
       FROM (SELECT ${COLUMNS}, NULL::text AS matched_email, NULL::boolean AS matched_current
               FROM account a JOIN server s ON s.id = a.server_id
              WHERE ${where}
              ORDER BY a.email, a.id LIMIT ${p.add(limit)} OFFSET ${p.add(offset)}) p
      ORDER BY email, id`;
  const { rows } = await consolePool().query<Row>(sql, p.values);
  if (rows.length || offset === 0) return { rows, total: rows.length ? Number(rows[0]!.total) : 0, exact: true };
  return { rows, total: (await listPage(input, 0, 1)).total, exact: true };
}

/** `options` are for tests and benches: force a strategy, or cap the accounts a walk may read. */
export async function searchAccounts(raw: SearchAccountsInput, options: { strategy?: SearchStrategy; walkBudget?: number } = {}): Promise<AccountPage> {
  const input = searchAccountsInput.parse(raw);
  if (input.server) await assertServerExists(input.server);
  const offset = (input.page - 1) * input.pageSize;
  let found: Found;
  if (!input.q) found = await listPage(input, offset, input.pageSize);
  else {
    const { strategy, share } = options.strategy && options.strategy !== "auto" ? { strategy: options.strategy, share: undefined } : await chooseStrategy(input, offset, input.pageSize);
    found = strategy === "collect" ? await collect(input, offset, input.pageSize) : await walkPage(input, offset, input.pageSize, share, options.walkBudget);
  }
  // The originals of the page's copies, by primary key: one small query, whatever the account count.
  const originals = found.rows.some((r) => r.copy_of)
    ? new Map(
        (await consolePool().query<{ id: string; email: string }>("SELECT id, email FROM account WHERE id = ANY($1::uuid[])", [found.rows.map((r) => r.copy_of).filter(Boolean)])).rows.map((o) => [o.id, o.email]),
      )
    : new Map<string, string>();
  return {
    items: found.rows.map((r) => ({
      id: r.id,
      email: r.email,
      displayName: r.display_name,
      status: r.status,
      server: r.server,
      createdAt: r.created_at.toISOString(),
      deletedAt: r.deleted_at?.toISOString() ?? null,
      matchedFormerName: r.matched_current === false ? r.matched_email : null,
      formerNameCount: r.former_names,
      copyOf: r.copy_of ? (originals.get(r.copy_of) ?? null) : null,
    })),
    total: found.total,
    totalExact: found.exact,
    page: input.page,
    pageSize: input.pageSize,
  };
}
