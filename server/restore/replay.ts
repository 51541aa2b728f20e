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
  /**
   * Loads the snapshot's rows. Replay calls it once, before it writes anything: when batched,
   * with the first run's fold, which the loader applies to the rows as they go in. Absent when
   * the mailbox's rows are already in place.
   */
  loadSnapshot?(fold: SnapshotFold | null): Promise<void>;
}

/**
 * What the first run of records does to an item of the snapshot, asked by the loader for each
 * row and taken out of the run: the loader writes the row as the run leaves it (its change), or
 * leaves it out (`"deleted"`: the run still writes its tombstone). The run writes neither again.
 */
export type SnapshotFold = (itemId: number) => ItemChange | "deleted" | undefined;

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

/**
 * The `date` of the folders or contact a record created: the original row's exact value, which the
 * record carries since it was made; records from before that have only their own time.
 */
const createdAt = (record: RedoRecord) => (record.payload.date as string | undefined) ?? record.at;

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
        [t.mailboxId, createdAt(record), cn, SYSTEM_FOLDERS.map((f) => f.id), SYSTEM_FOLDERS.map((f) => f.parentId), SYSTEM_FOLDERS.map((f) => f.name)],
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
        t.mailboxId, p.itemId, p.parentId, createdAt(record), p.name, cn,
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
        await q(`INSERT INTO ${t.items} (mailbox_id, id, type, date, name, change_number) VALUES ($1, $2, 'tag', $3, $4, $5)`, [t.mailboxId, p.tagId, p.tagDate ?? record.at, p.tag, cn]);
      }
      await q(
        `UPDATE ${t.items} SET tags = ${p.remove ? "array_remove(tags, $3::bigint)" : "CASE WHEN $3::bigint = ANY(tags) THEN tags ELSE array_append(tags, $3::bigint) END"},
                change_number = $4 WHERE mailbox_id = $1 AND id = ANY($2::bigint[])`,
        [t.mailboxId, p.itemIds, p.tagId, cn],
      );
      return true;
    case "CreateContact":
      await q(`INSERT INTO ${t.items} (mailbox_id, id, type, folder_id, date, name, metadata, change_number) VALUES ($1, $2, 'contact', $3, $4, $5, $6, $7)`, [
        t.mailboxId, p.itemId, p.folderId, createdAt(record), displayName(p.fields as ContactFields), { fields: p.fields }, cn,
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

/** Replay one record at a time (the reference the batched replay is tested against), or in batches. */
export type ReplayMode = "batched" | "reference";

export interface ReplayOptions {
  skipDeletes: boolean;
  ignoreRedoErrors: boolean;
  mode?: ReplayMode;
}

/**
 * Replays records of one mailbox (already filtered, in sequence order, in arrays) on top of a snapshot at
 * `state.changeNumber`. Checks that change numbers follow without a gap.
 *
 * Batched (the default): runs of records are gathered and written as one INSERT of new items,
 * one UPDATE of changed ones and one DELETE per run (`ReplayBatch`); a tag or whole-mailbox record
 * ends the run and is applied on its own after it. With a snapshot to load (`loadSnapshot`), the
 * first run is gathered before the load and folded into the snapshot's rows as they go in, so
 * the rows it changes are written once. The result is the record-by-record one, row for row.
 */
export async function replay(t: ReplayTarget, stream: AsyncIterable<RedoRecord[]>, state: ReplayState, options: ReplayOptions): Promise<ReplayState> {
  const batch = options.mode === "reference" ? null : new ReplayBatch(t);
  // The snapshot goes in before the first write, with the first run folded into its rows.
  let load = t.loadSnapshot ? () => t.loadSnapshot!(batch ? (id) => batch.takeForSnapshot(id) : null) : null;
  const flush = async () => {
    if (load) {
      const loading = load;
      load = null;
      await loading();
    }
    await batch?.flush();
  };
  for await (const records of stream) {
    for (const record of records) {
      if (record.changeNumber <= state.changeNumber) continue; // already in the snapshot
      if (record.changeNumber !== state.changeNumber + 1) {
        const gap = { from: state.changeNumber + 1, to: record.changeNumber - 1 };
        if (!options.ignoreRedoErrors) {
          throw new ReplayError("redo_gap", `gap in this mailbox's redo: change numbers ${gap.from} through ${gap.to} are missing (before redo ${record.seq})`);
        }
        state.gaps.push(gap);
      }
      if (options.skipDeletes && isDeletion(record)) state.skipped++;
      else {
        if (!batch?.add(record)) {
          await flush();
          await applyRecord(t, record, options);
        } else if (batch.full) await flush();
        state.applied++;
      }
      state.changeNumber = record.changeNumber;
      state.lastRedoSeq = record.seq;
    }
  }
  await flush();
  return state;
}

/** Deliveries' bodies checked and written at once while a batch is flushed. */
const BLOBS_AT_ONCE = 8;

/** A new item, as its record made it. */
interface NewItem {
  id: number;
  type: "message" | "folder" | "contact";
  parentId: number | null;
  folderId: number | null;
  date: unknown;
  size: number;
  digest: string | null;
  flags: number;
  sender: string | null;
  subject: string | null;
  name: string | null;
  metadata: string;
  changeNumber: number;
}

/**
 * What a run of records does to one item: flags as `(flags & ~clear) | set`, the folder (for a
 * message or contact) or parent (for a folder) it last went to, a new name, new contact fields.
 */
export interface ItemChange {
  clear: number;
  set: number;
  to: number | null;
  name: string | null;
  metadata: string | null;
  changeNumber: number;
}

/**
 * A new item's fields its record leaves unset. Built only for the records that make an item, and
 * by a module-level function: under tsx (esbuild's keepNames) a closure made per record also
 * costs a defineProperty of its name.
 */
function unsetFields(changeNumber: number) {
  return { parentId: null, folderId: null, size: 0, digest: null, flags: 0, sender: null, subject: null, name: null, metadata: "{}", changeNumber };
}

/** Each field of a new item, its column and its SQL type. */
const NEW_ITEM_COLUMNS: [keyof NewItem, string, string][] = [
  ["id", "id", "bigint"],
  ["type", "type", "text"],
  ["parentId", "parent_id", "bigint"],
  ["folderId", "folder_id", "bigint"],
  ["date", "date", "timestamptz"],
  ["size", "size", "bigint"],
  ["digest", "blob_digest", "text"],
  ["flags", "flags", "int"],
  ["sender", "sender", "text"],
  ["subject", "subject", "text"],
  ["name", "name", "text"],
  ["metadata", "metadata", "jsonb"],
  ["changeNumber", "change_number", "bigint"],
];

/** A run ends when it holds this many new items (deliveries keep their message bytes), or bytes... */
const BATCH_NEW_ITEMS = 5_000;
const BATCH_BYTES = 32 * 1024 * 1024;
/** ...or touches this many items: the folded changes are small, and the more records fold, the less is written. */
const BATCH_ITEMS = 100_000;

/**
 * A run of records that commute once grouped. Item ids are never reused, so new items (messages,
 * folders, contacts) can all be inserted first, then every change to existing or new items made,
 * then deletions done, and each item's changes fold into one:
 * flags `(x | s1) & ~c1` then `(x | s2) & ~c2` are `(x & ~(c1 | c2)) | ((s1 & ~c1 & ~c2) | (s2 & ~c2))`;
 * the last move, name and contact fields win; the item's change number is that of the last record
 * that touched it. Tags (whose array order follows the order of the records) and whole-mailbox
 * records end the run.
 */
class ReplayBatch {
  private inserts: NewItem[] = [];
  private deliveries: RedoRecord[] = [];
  private changes = new Map<number, ItemChange>();
  private deleted = new Map<number, { type: string; changeNumber: number }>();
  /** Deleted items the snapshot's loader left out: only their tombstones are still to write. */
  private dropped = new Set<number>();
  private records = 0;
  private bytes = 0;

  constructor(private readonly t: ReplayTarget) {}

  get full(): boolean {
    return this.inserts.length >= BATCH_NEW_ITEMS || this.bytes >= BATCH_BYTES || this.changes.size + this.deleted.size >= BATCH_ITEMS;
  }

  /** Takes the record into the run, or says it cannot be (the caller flushes and applies it alone). */
  add(record: RedoRecord): boolean {
    const p = record.payload as P;
    const cn = record.changeNumber;
    switch (record.op) {
      case "DeliverMessage":
        this.deliveries.push(record);
        this.bytes += record.blob?.length ?? 0;
        this.inserts.push({
          ...unsetFields(cn),
          id: Number(p.itemId),
          type: "message",
          folderId: Number(p.folderId),
          date: p.date,
          size: Number(p.size),
          digest: String(p.digest),
          flags: Number(p.flags ?? 0),
          sender: (p.sender as string | undefined) ?? null,
          subject: (p.subject as string | undefined) ?? null,
          metadata: JSON.stringify({ receivedAt: p.receivedAt }),
        });
        break;
      case "CreateFolder":
        this.inserts.push({ ...unsetFields(cn), id: Number(p.itemId), type: "folder", parentId: Number(p.parentId), date: createdAt(record), name: String(p.name) });
        break;
      case "CreateContact":
        this.inserts.push({ ...unsetFields(cn), id: Number(p.itemId), type: "contact", folderId: Number(p.folderId), date: createdAt(record), name: displayName(p.fields as ContactFields), metadata: JSON.stringify({ fields: p.fields }) });
        break;
      case "SetFlags": {
        const set = Number(p.set);
        const clear = Number(p.clear);
        for (const id of p.itemIds as number[]) {
          const c = this.change(id, cn);
          c.set = (c.set & ~clear) | (set & ~clear);
          c.clear |= clear;
        }
        break;
      }
      case "MoveItems":
        for (const id of p.itemIds as number[]) this.change(id, cn).to = Number(p.folderId);
        break;
      case "RenameFolder": {
        const c = this.change(Number(p.itemId), cn);
        c.name = String(p.name);
        c.to = Number(p.parentId);
        break;
      }
      case "ModifyContact": {
        const c = this.change(Number(p.itemId), cn);
        c.name = displayName(p.fields as ContactFields);
        c.metadata = JSON.stringify({ fields: p.fields });
        break;
      }
      case "DeleteItems":
      case "EmptyFolder":
      case "PurgeOldMessages":
        for (const d of p.deleted as DeletedItem[]) this.deleted.set(d.id, { type: d.type, changeNumber: cn });
        break;
      case "RenameAccount":
        break; // the mailbox's name is the restorer's business
      default:
        return false;
    }
    this.records++;
    return true;
  }

  /** The item's folded change, now made by the record with this change number. */
  private change(id: number, changeNumber: number): ItemChange {
    let c = this.changes.get(id);
    if (!c) this.changes.set(id, (c = { clear: 0, set: 0, to: null, name: null, metadata: null, changeNumber }));
    c.changeNumber = changeNumber;
    return c;
  }

  /** The run's fold for a row of the snapshot being loaded (`SnapshotFold`). */
  takeForSnapshot(id: number): ItemChange | "deleted" | undefined {
    if (this.deleted.has(id)) {
      this.changes.delete(id);
      this.dropped.add(id);
      return "deleted";
    }
    const change = this.changes.get(id);
    if (change) this.changes.delete(id);
    return change;
  }

  async flush(): Promise<void> {
    if (this.records === 0) return;
    const { t } = this;
    // Bodies are content-addressed, so the order they are written in does not matter: a few at once.
    const deliveries = this.deliveries;
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(BLOBS_AT_ONCE, deliveries.length) }, async () => {
        while (next < deliveries.length) await t.ensureBlob(deliveries[next++]!);
      }),
    );
    if (this.inserts.length) {
      // One array per column, in NEW_ITEM_COLUMNS' order.
      const columns = NEW_ITEM_COLUMNS.map(([field]) => this.inserts.map((item) => item[field]));
      await t.client.query(
        `INSERT INTO ${t.items} (mailbox_id, ${NEW_ITEM_COLUMNS.map(([, column]) => column).join(", ")})
         SELECT $1, n.* FROM unnest(${NEW_ITEM_COLUMNS.map(([, , type], i) => `$${i + 2}::${type}[]`).join(", ")}) AS n`,
        [t.mailboxId, ...columns],
      );
    }
    if (this.changes.size) {
      const ids = [...this.changes.keys()];
      const changes = [...this.changes.values()];
      await t.client.query(
        `UPDATE ${t.items} AS i
            SET flags = (i.flags & ~c.clear) | c.set,
                folder_id = CASE WHEN c.moved_to IS NULL OR i.type = 'folder' THEN i.folder_id ELSE c.moved_to END,
                parent_id = CASE WHEN c.moved_to IS NOT NULL AND i.type = 'folder' THEN c.moved_to ELSE i.parent_id END,
                name = coalesce(c.name, i.name),
                metadata = coalesce(c.metadata, i.metadata),
                change_number = c.change_number
           FROM unnest($2::bigint[], $3::int[], $4::int[], $5::bigint[], $6::text[], $7::jsonb[], $8::bigint[]) AS c(id, clear, set, moved_to, name, metadata, change_number)
          WHERE i.mailbox_id = $1 AND i.id = c.id`,
        [t.mailboxId, ids, changes.map((c) => c.clear), changes.map((c) => c.set), changes.map((c) => c.to), changes.map((c) => c.name), changes.map((c) => c.metadata), changes.map((c) => c.changeNumber)],
      );
    }
    if (this.deleted.size) {
      const ids = [...this.deleted.keys()];
      const gone = [...this.deleted.values()];
      const present = this.dropped.size ? ids.filter((id) => !this.dropped.has(id)) : ids;
      if (present.length) await t.client.query(`DELETE FROM ${t.items} WHERE mailbox_id = $1 AND id = ANY($2::bigint[])`, [t.mailboxId, present]);
      await t.client.query(
        `INSERT INTO ${t.tombstones} (mailbox_id, item_id, type, change_number)
         SELECT $1, id, type, change_number FROM unnest($2::bigint[], $3::text[], $4::bigint[]) AS d(id, type, change_number)
         ON CONFLICT (mailbox_id, item_id) DO UPDATE SET change_number = EXCLUDED.change_number`,
        [t.mailboxId, ids, gone.map((d) => d.type), gone.map((d) => d.changeNumber)],
      );
    }
    this.inserts = [];
    this.deliveries = [];
    this.changes.clear();
    this.deleted.clear();
    this.dropped.clear();
    this.records = 0;
    this.bytes = 0;
  }
}
