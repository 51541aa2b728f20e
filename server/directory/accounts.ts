/**
 * Directory changes that go with mailbox operations: creating an account, renaming it (the old
 * name joins its history), marking it deleted. Each runs on a console-database client inside a
 * transaction the caller holds, so the caller can commit it only once the mailstore side has.
 */
import { randomUUID } from "node:crypto";
import type pg from "pg";
import { InvalidInputError, AccountNotFoundError, MailvaultError } from "../errors.ts";

export class AccountExistsError extends MailvaultError {
  constructor(email: string) {
    super("conflict", "account_exists", `an account named ${email} already exists`);
  }
}

const EMAIL = /^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$/;

export function normalizeEmail(email: string): string {
  const normalized = email.trim().toLowerCase();
  if (!EMAIL.test(normalized)) throw new InvalidInputError(`not an email address: ${email}`);
  return normalized;
}

export interface DirectoryAccount {
  id: string;
  email: string;
  serverId: number;
  server: string;
  quotaBytes: number;
  deletedAt: Date | null;
}

async function domainId(client: pg.PoolClient, email: string): Promise<number> {
  const domain = email.split("@")[1]!;
  const { rows } = await client.query<{ id: number }>("SELECT id FROM domain WHERE name = $1", [domain]);
  if (!rows[0]) throw new InvalidInputError(`unknown domain ${domain}: add it to the directory first`);
  return rows[0].id;
}

async function assertNameFree(client: pg.PoolClient, email: string): Promise<void> {
  const { rowCount } = await client.query("SELECT 1 FROM account WHERE email = $1 AND deleted_at IS NULL", [email]);
  if (rowCount) throw new AccountExistsError(email);
}

export async function insertAccount(
  client: pg.PoolClient,
  input: { email: string; server: string; displayName?: string; cos?: string; at?: Date; copyOf?: string },
): Promise<DirectoryAccount> {
  const email = normalizeEmail(input.email);
  await assertNameFree(client, email);
  const domain = await domainId(client, email);
  const { rows: servers } = await client.query<{ id: number }>("SELECT id FROM server WHERE name = $1", [input.server]);
  if (!servers[0]) throw new InvalidInputError(`unknown server ${input.server}`);
  const { rows: classes } = await client.query<{ id: number; quota_bytes: string }>("SELECT id, quota_bytes FROM class_of_service WHERE name = $1", [
    input.cos ?? "default",
  ]);
  if (!classes[0]) throw new InvalidInputError(`unknown class of service ${input.cos ?? "default"}`);
  const id = randomUUID();
  const at = input.at ?? new Date();
  await client.query(
    `INSERT INTO account (id, email, display_name, domain_id, server_id, cos_id, created_at, copy_of) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [id, email, input.displayName ?? "", domain, servers[0].id, classes[0].id, at, input.copyOf ?? null],
  );
  await client.query("INSERT INTO account_name (account_id, email, valid_from) VALUES ($1, $2, $3)", [id, email, at]);
  return { id, email, serverId: servers[0].id, server: input.server, quotaBytes: Number(classes[0].quota_bytes), deletedAt: null };
}

export async function lockAccount(client: pg.PoolClient, accountId: string): Promise<DirectoryAccount> {
  const { rows } = await client.query<{ id: string; email: string; server_id: number; server: string; quota_bytes: string; deleted_at: Date | null }>(
    `SELECT a.id, a.email, a.server_id, s.name AS server, c.quota_bytes, a.deleted_at
       FROM account a JOIN server s ON s.id = a.server_id JOIN class_of_service c ON c.id = a.cos_id
      WHERE a.id = $1 FOR UPDATE OF a`,
    [accountId],
  );
  const row = rows[0];
  if (!row) throw new AccountNotFoundError(accountId);
  return { id: row.id, email: row.email, serverId: row.server_id, server: row.server, quotaBytes: Number(row.quota_bytes), deletedAt: row.deleted_at };
}

/** The current name becomes a former one, valid until `at`; the new one is valid from `at`. */
export async function recordRename(client: pg.PoolClient, accountId: string, newEmail: string, at: Date): Promise<void> {
  await assertNameFree(client, newEmail);
  await domainId(client, newEmail);
  await client.query("UPDATE account SET email = $2 WHERE id = $1", [accountId, newEmail]);
  await client.query("UPDATE account_name SET valid_to = $2 WHERE account_id = $1 AND valid_to IS NULL", [accountId, at]);
  await client.query("INSERT INTO account_name (account_id, email, valid_from) VALUES ($1, $2, $3)", [accountId, newEmail, at]);
}

export async function recordDeletion(client: pg.PoolClient, accountId: string, at: Date): Promise<void> {
  await client.query("UPDATE account SET deleted_at = $2, status = 'closed' WHERE id = $1", [accountId, at]);
}
