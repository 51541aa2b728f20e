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

export async function accountsByAnyName(name: string): Promise<NamedAccount[]> {
  const value = name.trim().toLowerCase();
  const isId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(value);
  const { rows } = await consolePool().query<{
    id: string;
    email: string;
    server: string;
    created_at: Date;
    deleted_at: Date | null;
    name: string;
    valid_from: Date;
    valid_to: Date | null;
  }>(
    `SELECT a.id, a.email, s.name AS server, a.created_at, a.deleted_at, n.email AS name, n.valid_from, n.valid_to
       FROM account_name n JOIN account a ON a.id = n.account_id JOIN server s ON s.id = a.server_id
      WHERE ${isId ? "a.id = $1::uuid AND n.valid_to IS NULL" : "n.email = $1"}
      ORDER BY n.valid_from DESC`,
    [value],
  );
  if (rows.length === 0) throw new AccountNotFoundError(name);
  return rows.map((r) => ({
    id: r.id,
    email: r.email,
    server: r.server,
    createdAt: r.created_at,
    deletedAt: r.deleted_at,
    name: { email: r.name, validFrom: r.valid_from, validTo: r.valid_to },
  }));
}

const ACCOUNT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Accounts as a person reads them: each id given replaced by its account's current email, the rest as given. */
export async function emailsOf(names: unknown[]): Promise<string> {
  const texts = names.map(String);
  const ids = texts.filter((t) => ACCOUNT_ID.test(t));
  const { rows } = ids.length ? await consolePool().query<{ id: string; email: string }>("SELECT id, email FROM account WHERE id = ANY($1::uuid[])", [ids]) : { rows: [] };
  const email = new Map(rows.map((r) => [r.id, r.email]));
  return texts.map((t) => email.get(t.toLowerCase()) ?? t).join(", ");
}
