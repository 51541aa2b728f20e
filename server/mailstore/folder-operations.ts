import { InvalidInputError } from "../errors.ts";
import { FolderExistsError, InvalidOperationError } from "./errors.ts";
import { exactTime, ROOT } from "./items.ts";
import { mutateMailbox, type MailboxRef, type MailboxTx } from "./mailbox-tx.ts";
import type { Mailstore } from "./mailstore.ts";

function checkName(name: string): string {
  const trimmed = name.trim();
  if (!trimmed || trimmed.length > 128 || /[/\\\u0000-\u001f]/.test(trimmed)) {
    throw new InvalidInputError(`invalid folder name "${name}": 1 to 128 characters, no slashes or control characters`);
  }
  return trimmed;
}

async function assertNameFree(tx: MailboxTx, parentId: number, name: string, except?: number): Promise<void> {
  const { rowCount } = await tx.client.query(
    `SELECT 1 FROM ${tx.items} WHERE mailbox_id = $1 AND type = 'folder' AND parent_id = $2 AND lower(name) = lower($3) AND id <> $4`,
    [tx.mailbox.id, parentId, name, except ?? 0],
  );
  if (rowCount) throw new FolderExistsError(name);
}

/** Refuses to put a folder under itself or under one of its own subfolders. */
export async function assertNotIntoItself(tx: MailboxTx, folderId: number, newParentId: number): Promise<void> {
  if ((await tx.subtree(folderId)).includes(newParentId)) {
    throw new InvalidOperationError("folder_into_itself", `cannot move folder ${folderId} into itself or one of its subfolders`);
  }
}

export async function createFolder(store: Mailstore, ref: MailboxRef, input: { name: string; parentId?: number }) {
  const name = checkName(input.name);
  const parentId = input.parentId ?? ROOT;
  return mutateMailbox(store, ref, "CreateFolder", async (tx) => {
    await tx.folder(parentId);
    await assertNameFree(tx, parentId, name);
    const itemId = tx.allocateItemId();
    const { rows } = await tx.client.query<{ date: string }>(
      `INSERT INTO ${tx.items} (mailbox_id, id, type, parent_id, date, name, change_number) VALUES ($1, $2, 'folder', $3, now(), $4, $5) RETURNING ${exactTime("date")} AS date`,
      [tx.mailbox.id, itemId, parentId, name, tx.changeNumber],
    );
    return { result: { itemId }, payload: { itemId, parentId, name, date: rows[0]!.date } };
  });
}

/** Renames a folder and/or moves it under another parent. */
export async function renameFolder(store: Mailstore, ref: MailboxRef, input: { folderId: number; name?: string; parentId?: number }) {
  if (input.name === undefined && input.parentId === undefined) throw new InvalidInputError("rename a folder to a new name, a new parent, or both");
  return mutateMailbox(store, ref, "RenameFolder", async (tx) => {
    tx.assertNotSystem([input.folderId], "rename");
    const folder = await tx.folder(input.folderId);
    const name = input.name === undefined ? folder.name! : checkName(input.name);
    const parentId = input.parentId ?? folder.parent_id!;
    if (parentId !== folder.parent_id) {
      await tx.folder(parentId);
      await assertNotIntoItself(tx, folder.id, parentId);
    }
    await assertNameFree(tx, parentId, name, folder.id);
    await tx.client.query(`UPDATE ${tx.items} SET name = $3, parent_id = $4, change_number = $5 WHERE mailbox_id = $1 AND id = $2`, [
      tx.mailbox.id,
      folder.id,
      name,
      parentId,
      tx.changeNumber,
    ]);
    return { result: { itemId: folder.id }, payload: { itemId: folder.id, name, parentId, oldName: folder.name, oldParentId: folder.parent_id } };
  });
}
