/**
 * Every stored value of a mailbox's items and tombstones, ids and times included (dates to the
 * microsecond, as text), in a stable order: what "restored exactly" is checked against, where the
 * canonical export (server/restore/export-mailbox.ts) deliberately leaves ids and times out.
 * Restore drills compare with it, and the fidelity tests.
 */
import type pg from "pg";
import { groupSchema } from "../mailstore/schema.ts";

/** An item as stored, every column as it comes from the database (bigints as text). */
export interface StoredItem {
  id: string;
  type: string;
  parent_id: string | null;
  folder_id: string | null;
  date: string;
  size: string;
  blob_digest: string | null;
  flags: number;
  tags: string;
  sender: string | null;
  subject: string | null;
  name: string | null;
  metadata: string;
  change_number: string;
}

type Queryable = Pick<pg.Pool | pg.PoolClient, "query">;

export type StoredRows = Awaited<ReturnType<typeof storedRows>>;

export async function storedRows(db: Queryable, mailbox: { id: number; group_id: number }) {
  const schema = groupSchema(mailbox.group_id);
  const { rows: items } = await db.query<StoredItem>(
    `SELECT id, type, parent_id, folder_id, date::text AS date, size, blob_digest, flags, tags::text AS tags, sender, subject, name, metadata::text AS metadata, change_number
       FROM ${schema}.item WHERE mailbox_id = $1 ORDER BY id`,
    [mailbox.id],
  );
  const { rows: tombstones } = await db.query<{ item_id: string; type: string; change_number: string }>(`SELECT item_id, type, change_number FROM ${schema}.tombstone WHERE mailbox_id = $1 ORDER BY item_id`, [mailbox.id]);
  return { items, tombstones };
}

/** A mailbox by its email: its rows as `storedRows` gives them, and the mailbox row's counters. */
export async function storedMailbox(db: Queryable, email: string) {
  const { rows: boxes } = await db.query<{ id: number; group_id: number; change_number: string; item_id_checkpoint: string; size_bytes: string }>(
    "SELECT id, group_id, change_number, item_id_checkpoint, size_bytes FROM mailstore.mailbox WHERE email = $1",
    [email],
  );
  const box = boxes[0];
  if (!box) throw new Error(`no mailbox ${email}`);
  return { mailbox: { changeNumber: box.change_number, itemIdCheckpoint: box.item_id_checkpoint, sizeBytes: box.size_bytes }, ...(await storedRows(db, box)) };
}
