/**
 * Finds the accounts meant by a name: an account id, or any email an account has ever had. A
 * name can have belonged to several accounts over time (a deleted account's name reused); all
 * are returned, each with the time that name was theirs.
 */
import { consolePool } from "../db/console-db.ts";
import { AccountNotFoundError } from "../errors.ts";

export interface NamedAccount {
  id: string;
  email: string;
  server: string;
  createdAt: Date;
  deletedAt: Date | null;
  /** The name that matched and when it was valid (null validTo: it is the current name). */
  name: { email: string; validFrom: Date; validTo: Date | null };
}

const ACCOUNT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function accountsByAnyName(name: string): Promise<NamedAccount[]> {
  const found = (await accountsByAnyNames([name])).get(name.trim().toLowerCase()) ?? [];
  if (found.length === 0) throw new AccountNotFoundError(name);
  return found;
}

/**
 * `accountsByAnyName` for many names in one query (a group or server restore plans hundreds or
 * thousands), keyed by each name trimmed and lower-cased; a name nothing matches maps to [].
 */
export async function accountsByAnyNames(names: string[]): Promise<Map<string, NamedAccount[]>> {
  const wanted = [...new Set(names.map((n) => n.trim().toLowerCase()))];
  const ids = wanted.filter((n) => ACCOUNT_ID.test(n));
  const emails = wanted.filter((n) => !ACCOUNT_ID.test(n));
  const { rows } = await consolePool().query<{
    key: string;
    id: string;
    email: string;
    server: string;
    created_at: Date;
    deleted_at: Date | null;
    name: string;
    valid_from: Date;
    valid_to: Date | null;
  }>(
    // Two branches, not one OR across the join, so each uses its index.
    `SELECT n.email AS key, a.id, a.email, s.name AS server, a.created_at, a.deleted_at, n.email AS name, n.valid_from, n.valid_to
       FROM account_name n JOIN account a ON a.id = n.account_id JOIN server s ON s.id = a.server_id
      WHERE n.email = ANY($1::text[])
     UNION ALL
     SELECT a.id::text AS key, a.id, a.email, s.name AS server, a.created_at, a.deleted_at, n.email AS name, n.valid_from, n.valid_to
       FROM account_name n JOIN account a ON a.id = n.account_id JOIN server s ON s.id = a.server_id
      WHERE a.id = ANY($2::uuid[]) AND n.valid_to IS NULL
      ORDER BY valid_from DESC`,
    [emails, ids],
  );
  const found = new Map<string, NamedAccount[]>(wanted.map((n) => [n, []]));
  for (const r of rows) {
    found.get(r.key)!.push({
      id: r.id,
      email: r.email,
      server: r.server,
      createdAt: r.created_at,
      deletedAt: r.deleted_at,
      name: { email: r.name, validFrom: r.valid_from, validTo: r.valid_to },
    });
  }
  return found;
}

/** Accounts as a person reads them: each id given replaced by its account's current email, the rest as given. */
export async function emailsOf(names: unknown[]): Promise<string> {
  const texts = names.map(String);
  const ids = texts.filter((t) => ACCOUNT_ID.test(t));
  const { rows } = ids.length ? await consolePool().query<{ id: string; email: string }>("SELECT id, email FROM account WHERE id = ANY($1::uuid[])", [ids]) : { rows: [] };
  const email = new Map(rows.map((r) => [r.id, r.email]));
  return texts.map((t) => email.get(t.toLowerCase()) ?? t).join(", ");
}
