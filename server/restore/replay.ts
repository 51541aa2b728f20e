/**
 * Redo replay: applies a mailbox's redo records, in change-number order, to a mailbox being
 * restored, using only what each record carries (its payload and, for deliveries, its message
 * bytes). Every record must follow the previous one's change number; a missing one is a gap and
 * fails the account unless gaps are to be ignored. With `skipDeletes`, deletions, mailbox
 * deletion, folder emptying, purges and moves into Trash are left out.
 *
 * A `RestoreMailbox` record marks where a mailbox was reloaded from a backup in place: its
 * history cannot be replayed across it, and replay stops there with an error that says so.
 */
import type pg from "pg";
import { MailvaultError } from "../errors.ts";
import { displayName, type ContactFields } from "../mailstore/contact-operations.ts";
import { SYSTEM_FOLDERS, TRASH } from "../mailstore/items.ts";
import type { DeletedItem } from "../mailstore/mailbox-tx.ts";
import type { RedoRecord } from "../redo/segment-format.ts";

export class ReplayError extends MailvaultError {
  constructor(code: string, message: string) {
    super("conflict", code, message);
  }
}

/** Operations `--skipDeletes` leaves out (plus moves into Trash). */
export const DELETING_OPS = new Set(["DeleteItems", "DeleteMailbox", "EmptyFolder", "PurgeOldMessages"]);

export function isDeletion(record: Pick<RedoRecord, "op" | "payload">): boolean {
  return DELETING_OPS.has(record.op) || (record.op === "MoveItems" && record.payload.folderId === TRASH);
}

export interface ReplayTarget {
  client: pg.PoolClient;
  mailboxId: number;
  items: string;
  tombstones: string;
  /** Makes sure a delivered message's bytes are in the target blob volume. */
  ensureBlob(record: RedoRecord): Promise<void>;
}

export interface ReplayState {
  changeNumber: number;
  lastRedoSeq: number;
  applied: number;
  skipped: number;
  gaps: { from: number; to: number }[];
}

type P = Record<string, unknown>;

async function removeItems(t: ReplayTarget, deleted: DeletedItem[], changeNumber: number): Promise<void> {
  if (!deleted.length) return;
  const ids = deleted.map((d) => d.id);
  await t.client.query(`DELETE FROM ${t.items} WHERE mailbox_id = $1 AND id = ANY($2::bigint[])`, [t.mailboxId, ids]);
  await t.client.query(
    `INSERT INTO ${t.tombstones} (mailbox_id, item_id, type, change_number)
     SELECT $1, id, type, $4 FROM unnest($2::bigint[], $3::text[]) AS d(id, type)
     ON CONFLICT (mailbox_id, item_id) DO UPDATE SET change_number = EXCLUDED.change_number`,
    [t.mailboxId, ids, deleted.map((d) => d.type), changeNumber],
  );
}

/** Applies one record; returns false when it was skipped (skipDeletes). */
export async function applyRecord(t: ReplayTarget, record: RedoRecord, options: { skipDeletes: boolean }): Promise<boolean> {
  const p = record.payload as P;
  const cn = record.changeNumber;
  if (options.skipDeletes && isDeletion(record)) return false;
  const q = (sql: string, params: unknown[]) => t.client.query(sql, params);
  switch (record.op) {
    case "CreateMailbox":
      // The mailbox row is the restorer's business; its system folders come with this record.
      await q(
        `INSERT INTO ${t.items} (mailbox_id, id, type, parent_id, date, name, change_number)
         SELECT $1, id, 'folder', parent_id, $2, name, $3 FROM unnest($4::bigint[], $5::bigint[], $6::text[]) AS f(id, parent_id, name)
         ON CONFLICT (mailbox_id, id) DO NOTHING`,
        [t.mailboxId, record.at, cn, SYSTEM_FOLDERS.map((f) => f.id), SYSTEM_FOLDERS.map((f) => f.parentId), SYSTEM_FOLDERS.map((f) => f.name)],
      );
      return true;
    case "RenameAccount":
      return true; // the mailbox's name is the restorer's business
    case "RestoreMailbox":
      throw new ReplayError("restored_in_place", `the mailbox was restored in place at redo ${record.seq}; restore from a backup taken after that`);
    case "DeliverMessage":
      await t.ensureBlob(record);
      await q(
        `INSERT INTO ${t.items} (mailbox_id, id, type, folder_id, date, size, blob_digest, flags, sender, subject, metadata, change_number)
         VALUES ($1, $2, 'message', $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [t.mailboxId, p.itemId, p.folderId, p.date, p.size, p.digest, p.flags ?? 0, p.sender, p.subject, { receivedAt: p.receivedAt }, cn],
      );
      return true;
    case "CreateFolder":
      await q(`INSERT INTO ${t.items} (mailbox_id, id, type, parent_id, date, name, change_number) VALUES ($1, $2, 'folder', $3, $4, $5, $6)`, [
        t.mailboxId, p.itemId, p.parentId, record.at, p.name, cn,
      ]);
      return true;
    case "RenameFolder":
      await q(`UPDATE ${t.items} SET name = $3, parent_id = $4, change_number = $5 WHERE mailbox_id = $1 AND id = $2`, [t.mailboxId, p.itemId, p.name, p.parentId, cn]);
      return true;
    case "MoveItems":
      await q(
        `UPDATE ${t.items} SET folder_id = CASE WHEN type = 'folder' THEN folder_id ELSE $3 END,
                parent_id = CASE WHEN type = 'folder' THEN $3 ELSE parent_id END, change_number = $4
          WHERE mailbox_id = $1 AND id = ANY($2::bigint[])`,
        [t.mailboxId, p.itemIds, p.folderId, cn],
      );
      return true;
    case "DeleteItems":
    case "EmptyFolder":
    case "PurgeOldMessages":
      await removeItems(t, p.deleted as DeletedItem[], cn);
      return true;
    case "DeleteMailbox":
      await q(`DELETE FROM ${t.items} WHERE mailbox_id = $1`, [t.mailboxId]);
      return true;
    case "SetFlags":
      await q(`UPDATE ${t.items} SET flags = (flags | $3::int) & ~($4::int), change_number = $5 WHERE mailbox_id = $1 AND id = ANY($2::bigint[])`, [
        t.mailboxId, p.itemIds, p.set, p.clear, cn,
      ]);
      return true;
    case "TagItems":
      if (p.createdTag) {
        await q(`INSERT INTO ${t.items} (mailbox_id, id, type, date, name, change_number) VALUES ($1, $2, 'tag', $3, $4, $5)`, [t.mailboxId, p.tagId, record.at, p.tag, cn]);
      }
      await q(
        `UPDATE ${t.items} SET tags = ${p.remove ? "array_remove(tags, $3::bigint)" : "CASE WHEN $3::bigint = ANY(tags) THEN tags ELSE array_append(tags, $3::bigint) END"},
                change_number = $4 WHERE mailbox_id = $1 AND id = ANY($2::bigint[])`,
        [t.mailboxId, p.itemIds, p.tagId, cn],
      );
      return true;
    case "CreateContact":
      await q(`INSERT INTO ${t.items} (mailbox_id, id, type, folder_id, date, name, metadata, change_number) VALUES ($1, $2, 'contact', $3, $4, $5, $6, $7)`, [
        t.mailboxId, p.itemId, p.folderId, record.at, displayName(p.fields as ContactFields), { fields: p.fields }, cn,
      ]);
      return true;
    case "ModifyContact":
      await q(`UPDATE ${t.items} SET name = $3, metadata = $4, change_number = $5 WHERE mailbox_id = $1 AND id = $2`, [
        t.mailboxId, p.itemId, displayName(p.fields as ContactFields), { fields: p.fields }, cn,
      ]);
      return true;
    default:
      throw new ReplayError("unknown_operation", `redo ${record.seq} has an operation this version cannot replay: ${record.op}`);
  }
}

/**
 * Replays records of one mailbox (already filtered, in sequence order) on top of a snapshot at
 * `state.changeNumber`. Checks that change numbers follow without a gap.
 */
export async function replay(t: ReplayTarget, records: AsyncIterable<RedoRecord>, state: ReplayState, options: { skipDeletes: boolean; ignoreRedoErrors: boolean }): Promise<ReplayState> {
  for await (const record of records) {
    if (record.changeNumber <= state.changeNumber) continue; // already in the snapshot
    if (record.changeNumber !== state.changeNumber + 1) {
      const gap = { from: state.changeNumber + 1, to: record.changeNumber - 1 };
      if (!options.ignoreRedoErrors) {
        throw new ReplayError("redo_gap", `gap in this mailbox's redo: change numbers ${gap.from} through ${gap.to} are missing (before redo ${record.seq})`);
      }
      state.gaps.push(gap);
    }
    if (await applyRecord(t, record, options)) state.applied++;
    else state.skipped++;
    state.changeNumber = record.changeNumber;
    state.lastRedoSeq = record.seq;
  }
  return state;
}
