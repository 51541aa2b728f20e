/**
 * The mailstore schema of one mailbox server, owned here as plain SQL (Prisma owns only the
 * console database). Schema `mailstore` holds the mailboxes, the redo log and the archive state;
 * schemas `mboxgroup1..N` hold the items (and tombstones) of about 1/N of the mailboxes each,
 * so losing one group's schema (seed 000) loses about 1/N of the users.
 *
 * `ensureMailstore` is idempotent: it creates the database when missing and whatever part of the
 * schema is absent, and records the format version and group count in `mailstore.config`.
 */
import pg from "pg";
import { config, withDatabase } from "../config.ts";
import { ensureDatabase } from "../db/databases.ts";
import { MailvaultError } from "../errors.ts";

export const MAILSTORE_FORMAT = 1;

/** Mailboxes live in group ((id - 1) mod N) + 1, i.e. `id mod N` with groups numbered from 1. */
export function mailboxGroup(mailboxId: number, groups: number): number {
  return ((mailboxId - 1) % groups) + 1;
}

export function groupSchema(group: number): string {
  if (!Number.isInteger(group) || group < 1) throw new Error(`invalid mailbox group ${group}`);
  return `mboxgroup${group}`;
}

const CORE = `
CREATE SCHEMA IF NOT EXISTS mailstore;
CREATE TABLE IF NOT EXISTS mailstore.config (
  key text PRIMARY KEY,
  value jsonb NOT NULL
);
CREATE SEQUENCE IF NOT EXISTS mailstore.mailbox_id_seq;
CREATE TABLE IF NOT EXISTS mailstore.mailbox (
  id bigint PRIMARY KEY,
  account_id uuid NOT NULL UNIQUE,
  group_id integer NOT NULL,
  email text NOT NULL,
  email_at_creation text NOT NULL,
  change_number bigint NOT NULL DEFAULT 0,
  item_id_checkpoint bigint NOT NULL,
  size_bytes bigint NOT NULL DEFAULT 0,
  quota_bytes bigint NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_backup_at timestamptz
);
-- The sequence number of the mailbox's latest redo record: a snapshot of the mailbox is exactly
-- the state after that record, and replay starts after it.
ALTER TABLE mailstore.mailbox ADD COLUMN IF NOT EXISTS last_redo_seq bigint NOT NULL DEFAULT 0;
-- Mailboxes by address: every delivery finds its recipients' mailboxes so. Without it each one
-- read the whole table (100,000 rows on a large server).
CREATE INDEX IF NOT EXISTS mailbox_email_idx ON mailstore.mailbox (email);
-- The redo log: one row per committed mailbox operation. seq comes from a sequence, so an
-- aborted transaction leaves a hole; txid lets the archiver tell a hole that may still fill
-- (its transaction is in flight) from one that never will (see server/redo/archive-redo.ts).
CREATE SEQUENCE IF NOT EXISTS mailstore.redo_seq;
CREATE TABLE IF NOT EXISTS mailstore.redo_log (
  seq bigint PRIMARY KEY,
  txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  at timestamptz NOT NULL DEFAULT clock_timestamp(),
  mailbox_id bigint NOT NULL,
  account_id uuid NOT NULL,
  change_number bigint NOT NULL,
  op text NOT NULL,
  payload jsonb NOT NULL,
  blob bytea
);
CREATE INDEX IF NOT EXISTS redo_log_mailbox_idx ON mailstore.redo_log (mailbox_id, change_number);
-- Message bytes stay uncompressed out of line: records live here for seconds, and compressing
-- them would cost every delivery CPU for nothing the archiver keeps.
ALTER TABLE mailstore.redo_log ALTER COLUMN blob SET STORAGE EXTERNAL;
CREATE TABLE IF NOT EXISTS mailstore.redo_state (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  last_archived_seq bigint NOT NULL DEFAULT 0,
  last_archived_at timestamptz,
  segments bigint NOT NULL DEFAULT 0
);
INSERT INTO mailstore.redo_state (id) VALUES (true) ON CONFLICT DO NOTHING;
`;

export function groupDdl(group: number): string {
  const s = groupSchema(group);
  return `
CREATE SCHEMA IF NOT EXISTS ${s};
CREATE TABLE IF NOT EXISTS ${s}.item (
  mailbox_id bigint NOT NULL,
  id bigint NOT NULL,
  type text NOT NULL CHECK (type IN ('folder', 'message', 'contact', 'tag', 'appointment')),
  parent_id bigint,
  folder_id bigint,
  date timestamptz NOT NULL,
  size bigint NOT NULL DEFAULT 0,
  blob_digest text,
  flags integer NOT NULL DEFAULT 0,
  tags bigint[] NOT NULL DEFAULT '{}',
  sender text,
  subject text,
  name text,
  metadata jsonb NOT NULL DEFAULT '{}',
  change_number bigint NOT NULL,
  PRIMARY KEY (mailbox_id, id)
);
CREATE INDEX IF NOT EXISTS item_folder_idx ON ${s}.item (mailbox_id, folder_id);
CREATE INDEX IF NOT EXISTS item_blob_idx ON ${s}.item (blob_digest) WHERE blob_digest IS NOT NULL;
-- Folders and tags by mailbox: a folder's name check and its subfolders, a tag by name. Without it
-- each of those read every item of the mailbox.
CREATE INDEX IF NOT EXISTS item_folder_tag_idx ON ${s}.item (mailbox_id, type, parent_id) WHERE type IN ('folder', 'tag');
CREATE TABLE IF NOT EXISTS ${s}.tombstone (
  mailbox_id bigint NOT NULL,
  item_id bigint NOT NULL,
  type text NOT NULL,
  change_number bigint NOT NULL,
  deleted_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (mailbox_id, item_id)
);`;
}

export class MailstoreFormatError extends MailvaultError {
  constructor(message: string) {
    super("conflict", "mailstore_format", message);
  }
}

export function mailstoreUrl(database: string): string {
  return withDatabase(config().DATABASE_URL, database);
}

/** Creates (or completes) a server's mailstore database. Returns the group count it uses. */
export async function ensureMailstore(options: { server: string; database: string; groups: number }): Promise<{ groups: number; created: boolean }> {
  const url = mailstoreUrl(options.database);
  const created = await ensureDatabase(url);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock(hashtext('mailvault.mailstore.schema'))");
    await client.query(CORE);
    const { rows } = await client.query<{ key: string; value: unknown }>("SELECT key, value FROM mailstore.config");
    const current = Object.fromEntries(rows.map((r) => [r.key, r.value]));
    if (current.server !== undefined && current.server !== options.server) {
      throw new MailstoreFormatError(`database ${options.database} belongs to server ${String(current.server)}, not ${options.server}`);
    }
    // The group count is fixed once mailboxes exist: changing it would move them between groups.
    const groups = typeof current.groups === "number" ? current.groups : options.groups;
    for (let g = 1; g <= groups; g++) await client.query(groupDdl(g));
    await client.query(
      `INSERT INTO mailstore.config (key, value) VALUES ('server', $1), ('format', $2), ('groups', $3)
       ON CONFLICT (key) DO NOTHING`,
      [JSON.stringify(options.server), JSON.stringify(MAILSTORE_FORMAT), JSON.stringify(groups)],
    );
    return { groups, created };
  } finally {
    await client.end();
  }
}
