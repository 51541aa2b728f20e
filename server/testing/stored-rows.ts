/**
 * Every stored value of a mailbox's items and tombstones, ids and times included (dates to the
 * microsecond, as text), in a stable order: what "restored exactly" is checked against, where the
 * canonical export (server/restore/export-mailbox.ts) deliberately leaves ids and times out.
 */
import type pg from "pg";
import { groupSchema } from "../mailstore/schema.ts";

type Queryable = Pick<pg.Pool | pg.PoolClient, "query">;

export async function storedRows(db: Queryable, mailbox: { id: number; group_id: number }) {
  const schema = groupSchema(mailbox.group_id);
  const { rows: items } = await db.query(
    `SELECT id, type, parent_id, folder_id, date::text AS date, size, blob_digest, flags, tags::text AS tags, sender, subject, name, metadata::text AS metadata, change_number
       FROM ${schema}.item WHERE mailbox_id = $1 ORDER BY id`,
    [mailbox.id],
  );
  const { rows: tombstones } = await db.query(`SELECT item_id, type, change_number FROM ${schema}.tombstone WHERE mailbox_id = $1 ORDER BY item_id`, [mailbox.id]);
  return { items, tombstones };
}
