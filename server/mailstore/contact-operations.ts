import { InvalidInputError } from "../errors.ts";
import { CONTACTS, exactTime } from "./items.ts";
import { mutateMailbox, type MailboxRef } from "./mailbox-tx.ts";
import type { Mailstore } from "./mailstore.ts";

export type ContactFields = Record<string, string>;

function checkFields(fields: ContactFields): ContactFields {
  const entries = Object.entries(fields);
  if (entries.length === 0) throw new InvalidInputError("a contact needs at least one field");
  for (const [key, value] of entries) {
    if (!/^[a-zA-Z][a-zA-Z0-9]{0,63}$/.test(key)) throw new InvalidInputError(`invalid contact field name "${key}"`);
    if (typeof value !== "string" || value.length > 4096) throw new InvalidInputError(`contact field ${key} must be text of at most 4096 characters`);
  }
  return fields;
}

export function displayName(fields: ContactFields): string {
  return [fields.firstName, fields.lastName].filter(Boolean).join(" ") || fields.email || fields.company || "(no name)";
}

export async function createContact(store: Mailstore, ref: MailboxRef, input: { fields: ContactFields; folderId?: number }) {
  const fields = checkFields(input.fields);
  const folderId = input.folderId ?? CONTACTS;
  return mutateMailbox(store, ref, "CreateContact", async (tx) => {
    await tx.folder(folderId);
    const itemId = tx.allocateItemId();
    const { rows } = await tx.client.query<{ date: string }>(
      `INSERT INTO ${tx.items} (mailbox_id, id, type, folder_id, date, name, metadata, change_number) VALUES ($1, $2, 'contact', $3, now(), $4, $5, $6) RETURNING ${exactTime("date")} AS date`,
      [tx.mailbox.id, itemId, folderId, displayName(fields), { fields }, tx.changeNumber],
    );
    return { result: { itemId }, payload: { itemId, folderId, fields, date: rows[0]!.date } };
  });
}

/** Replaces a contact's fields; the redo record holds the whole new set. */
export async function modifyContact(store: Mailstore, ref: MailboxRef, input: { itemId: number; fields: ContactFields }) {
  const fields = checkFields(input.fields);
  return mutateMailbox(store, ref, "ModifyContact", async (tx) => {
    await tx.item(input.itemId, ["contact"]);
    await tx.client.query(`UPDATE ${tx.items} SET name = $3, metadata = $4, change_number = $5 WHERE mailbox_id = $1 AND id = $2`, [
      tx.mailbox.id,
      input.itemId,
      displayName(fields),
      { fields },
      tx.changeNumber,
    ]);
    return { result: { itemId: input.itemId }, payload: { itemId: input.itemId, fields } };
  });
}
