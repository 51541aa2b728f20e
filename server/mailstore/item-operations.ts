/**
 * Operations on a mailbox's items: move, delete, flag, tag, empty a folder, purge old messages.
 * Each is one transaction with one redo record (server/mailstore/mailbox-tx.ts). Deletions record
 * what went (ids, types, folders, subjects), which is what `redodump` and the deletion timeline
 * show when a user asks where last year's mail went.
 */
import { InvalidInputError } from "../errors.ts";
import { InvalidOperationError } from "./errors.ts";
import { assertNotIntoItself } from "./folder-operations.ts";
import { exactTime, FLAG, TRASH, type FlagName } from "./items.ts";
import { mutateMailbox, type MailboxRef } from "./mailbox-tx.ts";
import type { Mailstore } from "./mailstore.ts";

function checkIds(itemIds: number[]): number[] {
  if (itemIds.length === 0) throw new InvalidInputError("name at least one item");
  if (itemIds.length > 10_000) throw new InvalidInputError("at most 10000 items at once");
  if (!itemIds.every((id) => Number.isSafeInteger(id) && id > 0)) throw new InvalidInputError("item ids are positive whole numbers");
  return [...new Set(itemIds)];
}

export async function moveItems(store: Mailstore, ref: MailboxRef, input: { itemIds: number[]; folderId: number }) {
  const ids = checkIds(input.itemIds);
  return mutateMailbox(store, ref, "MoveItems", async (tx) => {
    tx.assertNotSystem(ids, "move");
    await tx.folder(input.folderId);
    const items = await tx.itemsById(ids, ["message", "contact", "appointment", "folder"]);
    const from: Record<number, number | null> = {};
    for (const item of items) {
      from[item.id] = item.type === "folder" ? item.parent_id : item.folder_id;
      if (item.type === "folder") await assertNotIntoItself(tx, item.id, input.folderId);
    }
    await tx.client.query(
      `UPDATE ${tx.items}
          SET folder_id = CASE WHEN type = 'folder' THEN folder_id ELSE $3 END,
              parent_id = CASE WHEN type = 'folder' THEN $3 ELSE parent_id END,
              change_number = $4
        WHERE mailbox_id = $1 AND id = ANY($2::bigint[])`,
      [tx.mailbox.id, ids, input.folderId, tx.changeNumber],
    );
    const moved = items.map((i) => ({ id: i.id, type: i.type, from: from[i.id], subject: i.subject, name: i.name }));
    return { result: { moved: ids.length }, payload: { itemIds: ids, folderId: input.folderId, toTrash: input.folderId === TRASH, moved } };
  });
}

export async function deleteItems(store: Mailstore, ref: MailboxRef, input: { itemIds: number[] }) {
  const ids = checkIds(input.itemIds);
  return mutateMailbox(store, ref, "DeleteItems", async (tx) => {
    tx.assertNotSystem(ids, "delete");
    const deleted = await tx.deleteItems(ids);
    return { result: { deleted: deleted.length }, payload: { itemIds: ids, deleted } };
  });
}

export async function setFlags(store: Mailstore, ref: MailboxRef, input: { itemIds: number[]; flags: Partial<Record<FlagName, boolean>> }) {
  const ids = checkIds(input.itemIds);
  const entries = Object.entries(input.flags).filter(([, v]) => v !== undefined) as [FlagName, boolean][];
  const unknown = entries.filter(([name]) => !(name in FLAG)).map(([name]) => name);
  if (unknown.length) throw new InvalidInputError(`unknown flag ${unknown.join(", ")}: use read, flagged or deleted`);
  if (entries.length === 0) throw new InvalidInputError("set or clear at least one flag: read, flagged or deleted");
  const set = entries.filter(([, on]) => on).reduce((bits, [name]) => bits | FLAG[name], 0);
  const clear = entries.filter(([, on]) => !on).reduce((bits, [name]) => bits | FLAG[name], 0);
  return mutateMailbox(store, ref, "SetFlags", async (tx) => {
    await tx.itemsById(ids, ["message", "contact", "appointment"]);
    await tx.client.query(`UPDATE ${tx.items} SET flags = (flags | $3::int) & ~($4::int), change_number = $5 WHERE mailbox_id = $1 AND id = ANY($2::bigint[])`, [
      tx.mailbox.id,
      ids,
      set,
      clear,
      tx.changeNumber,
    ]);
    return { result: { updated: ids.length }, payload: { itemIds: ids, set, clear } };
  });
}

/** Adds (or with `remove`, takes off) a tag by name; adding creates the tag when it is new. */
export async function tagItems(store: Mailstore, ref: MailboxRef, input: { itemIds: number[]; tag: string; remove?: boolean }) {
  const ids = checkIds(input.itemIds);
  const tag = input.tag.trim();
  if (!tag || tag.length > 64) throw new InvalidInputError("a tag name is 1 to 64 characters");
  return mutateMailbox(store, ref, "TagItems", async (tx) => {
    await tx.itemsById(ids, ["message", "contact", "appointment"]);
    const { rows } = await tx.client.query<{ id: number }>(`SELECT id FROM ${tx.items} WHERE mailbox_id = $1 AND type = 'tag' AND lower(name) = lower($2)`, [
      tx.mailbox.id,
      tag,
    ]);
    let tagId = rows[0]?.id;
    let created = false;
    let tagDate: string | undefined;
    if (tagId === undefined) {
      if (input.remove) throw new InvalidOperationError("tag_not_found", `no tag named "${tag}" in this mailbox`);
      tagId = tx.allocateItemId();
      created = true;
      const { rows: made } = await tx.client.query<{ date: string }>(
        `INSERT INTO ${tx.items} (mailbox_id, id, type, date, name, change_number) VALUES ($1, $2, 'tag', now(), $3, $4) RETURNING ${exactTime("date")} AS date`,
        [tx.mailbox.id, tagId, tag, tx.changeNumber],
      );
      tagDate = made[0]!.date;
    }
    const update = input.remove
      ? `array_remove(tags, $3::bigint)`
      : `CASE WHEN $3::bigint = ANY(tags) THEN tags ELSE array_append(tags, $3::bigint) END`;
    await tx.client.query(`UPDATE ${tx.items} SET tags = ${update}, change_number = $4 WHERE mailbox_id = $1 AND id = ANY($2::bigint[])`, [
      tx.mailbox.id,
      ids,
      tagId,
      tx.changeNumber,
    ]);
    return { result: { tagId }, payload: { itemIds: ids, tagId, tag, remove: input.remove ?? false, createdTag: created, ...(tagDate ? { tagDate } : {}) } };
  });
}

/** Deletes everything in a folder, subfolders included, and keeps the folder. */
export async function emptyFolder(store: Mailstore, ref: MailboxRef, input: { folderId: number }) {
  return mutateMailbox(store, ref, "EmptyFolder", async (tx) => {
    await tx.folder(input.folderId);
    const { rows } = await tx.client.query<{ id: number }>(
      `SELECT id FROM ${tx.items} WHERE mailbox_id = $1 AND (folder_id = $2 OR (type = 'folder' AND parent_id = $2))`,
      [tx.mailbox.id, input.folderId],
    );
    const deleted = await tx.deleteItems(rows.map((r) => r.id));
    return { result: { deleted: deleted.length }, payload: { folderId: input.folderId, deleted } };
  });
}

/** Deletes the messages of a folder dated before a time (a retention policy's purge). */
export async function purgeOldMessages(store: Mailstore, ref: MailboxRef, input: { folderId: number; before: Date }) {
  if (Number.isNaN(input.before.getTime())) throw new InvalidInputError("purge needs a valid time");
  return mutateMailbox(store, ref, "PurgeOldMessages", async (tx) => {
    await tx.folder(input.folderId);
    const { rows } = await tx.client.query<{ id: number }>(
      `SELECT id FROM ${tx.items} WHERE mailbox_id = $1 AND folder_id = $2 AND type = 'message' AND date < $3`,
      [tx.mailbox.id, input.folderId, input.before],
    );
    const deleted = await tx.deleteItems(rows.map((r) => r.id));
    return { result: { deleted: deleted.length }, payload: { folderId: input.folderId, before: input.before.toISOString(), deleted } };
  });
}
