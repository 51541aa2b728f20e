/**
 * Copy-back: the second half of the seed's export/import workflow, without tgz files. Chosen
 * folders (with their subfolders) or items of a prefixed copy go back into the original account
 * through the normal operation API, so every change has its redo record: folders are created
 * where missing, each message is delivered with its flags and tags, each contact recreated. An
 * item the original already has at the same place (same folder path and message bytes, or same
 * contact fields) is skipped, or with `replace` deleted and copied again.
 */
import { z } from "zod";
import { InvalidInputError } from "../errors.ts";
import { createContact, type ContactFields } from "../mailstore/contact-operations.ts";
import { deliverMessage } from "../mailstore/deliver-message.ts";
import { createFolder } from "../mailstore/folder-operations.ts";
import { deleteItems, tagItems } from "../mailstore/item-operations.ts";
import { flagsToNames, ROOT, type ItemRow } from "../mailstore/items.ts";
import { openMailstore, type Mailstore } from "../mailstore/mailstore.ts";
import { groupSchema } from "../mailstore/schema.ts";
import { copyOrigin } from "./copy-origin.ts";
import { folderPaths } from "./export-mailbox.ts";

export const copyBackInput = z
  .object({
    server: z.string().min(1),
    from: z.string().min(3, "name the copy to copy from"),
    to: z.string().min(3, "name the account to copy into"),
    folders: z.array(z.string().startsWith("/", "folder paths start with /, e.g. /Inbox/Projects")).optional(),
    itemIds: z.array(z.number().int().positive()).optional(),
    onConflict: z.enum(["skip", "replace"]).default("skip"),
  })
  .refine((v) => (v.folders?.length ?? 0) + (v.itemIds?.length ?? 0) > 0, "choose folders (paths) or items to copy back")
  .refine((v) => v.from.toLowerCase() !== v.to.toLowerCase(), "copy back from a copy into another account, not into itself");

export interface CopyBackResult {
  copied: number;
  skipped: number;
  replaced: number;
  foldersCreated: string[];
  problems: string[];
}

async function itemsOf(store: Mailstore, email: string): Promise<{ accountId: string; items: ItemRow[] }> {
  const { rows } = await store.pool.query<{ account_id: string; id: number; group_id: number }>("SELECT account_id, id, group_id FROM mailstore.mailbox WHERE email = $1", [email.toLowerCase()]);
  if (!rows[0]) throw new InvalidInputError(`no mailbox ${email} on ${store.server}`);
  const { rows: items } = await store.pool.query<ItemRow>(`SELECT * FROM ${groupSchema(rows[0].group_id)}.item WHERE mailbox_id = $1`, [rows[0].id]);
  return { accountId: rows[0].account_id, items };
}

const keyOf = (path: string, item: ItemRow) => (item.type === "message" ? `${path}|m|${item.blob_digest}` : `${path}|c|${JSON.stringify((item.metadata as { fields?: unknown }).fields ?? {})}`);

export async function copyBack(raw: z.input<typeof copyBackInput>): Promise<CopyBackResult> {
  const input = copyBackInput.parse(raw);
  const store = await openMailstore(input.server);
  const source = await itemsOf(store, input.from);
  const target = await itemsOf(store, input.to);
  // Only from a copy a restore made, into the account it was restored from: never between two
  // unrelated mailboxes.
  const origin = await copyOrigin(input.from);
  if (!origin) throw new InvalidInputError(`${input.from} is not a copy made by a restore: copy back takes items from a prefixed copy into the account it copies`);
  if (origin.originalAccountId !== target.accountId) {
    throw new InvalidInputError(`${input.from} is a copy of ${origin.originalEmail} (made by ${origin.restoreRun}), not of ${input.to}: copy back into ${origin.originalEmail}`);
  }
  const sourcePaths = folderPaths(source.items);
  const tagNames = new Map(source.items.filter((i) => i.type === "tag").map((t) => [t.id, t.name!]));

  const unknown = (input.folders ?? []).filter((f) => ![...sourcePaths.values()].includes(f));
  if (unknown.length) throw new InvalidInputError(`${input.from} has no folder ${unknown.join(", ")}`);
  const selected = source.items.filter((i) => {
    if (i.type !== "message" && i.type !== "contact") return false;
    if (input.itemIds?.includes(i.id)) return true;
    const path = sourcePaths.get(i.folder_id!) ?? "";
    return (input.folders ?? []).some((f) => path === f || path.startsWith(`${f}/`));
  });
  const missing = (input.itemIds ?? []).filter((id) => !selected.some((i) => i.id === id));
  if (missing.length) throw new InvalidInputError(`${input.from} has no message or contact ${missing.join(", ")}`);

  const result: CopyBackResult = { copied: 0, skipped: 0, replaced: 0, foldersCreated: [], problems: [] };
  const ref = { accountId: target.accountId };
  const targetPaths = folderPaths(target.items);
  const folderByPath = new Map([...targetPaths.entries()].map(([id, path]) => [path, id]));
  const existing = new Map(target.items.filter((i) => i.type === "message" || i.type === "contact").map((i) => [keyOf(targetPaths.get(i.folder_id!) ?? "", i), i.id]));

  const ensureFolder = async (path: string): Promise<number> => {
    const known = folderByPath.get(path);
    if (known !== undefined) return known;
    const parentPath = path.slice(0, path.lastIndexOf("/"));
    const parentId = parentPath ? await ensureFolder(parentPath) : ROOT;
    const { itemId } = await createFolder(store, ref, { name: path.slice(path.lastIndexOf("/") + 1), parentId });
    folderByPath.set(path, itemId);
    result.foldersCreated.push(path);
    return itemId;
  };

  for (const item of selected) {
    const path = sourcePaths.get(item.folder_id!) ?? "/Inbox";
    const clash = existing.get(keyOf(path, item));
    if (clash !== undefined) {
      if (input.onConflict === "skip") {
        result.skipped++;
        continue;
      }
      await deleteItems(store, ref, { itemIds: [clash] });
      result.replaced++;
    }
    const folderId = await ensureFolder(path);
    let newId: number;
    if (item.type === "message") {
      const bytes = await store.blobs.read(item.blob_digest!).catch(() => null);
      if (!bytes) {
        result.problems.push(`message ${item.id} "${item.subject ?? ""}": its blob is missing from the volume`);
        continue;
      }
      const delivered = await deliverMessage(store, { recipients: [input.to], bytes, folderId, flags: flagsToNames(item.flags) });
      if (!delivered.delivered[0]) {
        result.problems.push(`message ${item.id}: ${delivered.refused[0]?.error.message ?? "not delivered"}`);
        continue;
      }
      newId = delivered.delivered[0].itemId;
    } else {
      newId = (await createContact(store, ref, { folderId, fields: ((item.metadata as { fields?: ContactFields }).fields ?? {}) as ContactFields })).itemId;
    }
    for (const tagId of item.tags) if (tagNames.has(tagId)) await tagItems(store, ref, { itemIds: [newId], tag: tagNames.get(tagId)! });
    result.copied++;
  }
  return result;
}
