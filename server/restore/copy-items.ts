/**
 * Copies chosen items of one mailbox into an account through the normal operation API, so every
 * change has its redo record: folders are created where missing, each message is delivered with
 * its flags and tags, each contact recreated. An item the target already has at the same place
 * (same folder path and message bytes, or same contact fields) is skipped, or with `replace`
 * deleted and copied again. The source is a prefixed copy (copy-back) or a backup read through an
 * explore view (item restore); `under` puts everything below a folder such as `/Recovered 2026-12-04`.
 */
import { InvalidInputError } from "../errors.ts";
import { createContact, type ContactFields } from "../mailstore/contact-operations.ts";
import { deliverMessage } from "../mailstore/deliver-message.ts";
import { createFolder } from "../mailstore/folder-operations.ts";
import { deleteItems, tagItems } from "../mailstore/item-operations.ts";
import { flagsToNames, ROOT, type ItemRow } from "../mailstore/items.ts";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { folderPaths } from "./export-mailbox.ts";

export interface CopyItemsResult {
  copied: number;
  skipped: number;
  replaced: number;
  foldersCreated: string[];
  problems: string[];
  /** Each copied item's id in the source and in the target. */
  items: { from: number; to: number }[];
}

export interface CopySource {
  items: ItemRow[];
  /** How the source is named in messages: the copy's address, or "alice@… as backed up in …". */
  name: string;
  readBlob(digest: string): Promise<Buffer>;
}

export interface CopyTarget {
  accountId: string;
  email: string;
  items: ItemRow[];
}

const keyOf = (path: string, item: ItemRow) => (item.type === "message" ? `${path}|m|${item.blob_digest}` : `${path}|c|${JSON.stringify((item.metadata as { fields?: unknown }).fields ?? {})}`);

export async function copyItems(
  store: Mailstore,
  source: CopySource,
  target: CopyTarget,
  input: { folders?: string[]; itemIds?: number[]; onConflict: "skip" | "replace"; under?: string },
): Promise<CopyItemsResult> {
  const sourcePaths = folderPaths(source.items);
  const tagNames = new Map(source.items.filter((i) => i.type === "tag").map((t) => [t.id, t.name!]));

  const unknown = (input.folders ?? []).filter((f) => ![...sourcePaths.values()].includes(f));
  if (unknown.length) throw new InvalidInputError(`${source.name} has no folder ${unknown.join(", ")}`);
  const selected = source.items.filter((i) => {
    if (i.type !== "message" && i.type !== "contact") return false;
    if (input.itemIds?.includes(i.id)) return true;
    const path = sourcePaths.get(i.folder_id!) ?? "";
    return (input.folders ?? []).some((f) => path === f || path.startsWith(`${f}/`));
  });
  const missing = (input.itemIds ?? []).filter((id) => !selected.some((i) => i.id === id));
  if (missing.length) throw new InvalidInputError(`${source.name} has no message or contact ${missing.join(", ")}`);

  const result: CopyItemsResult = { copied: 0, skipped: 0, replaced: 0, foldersCreated: [], problems: [], items: [] };
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

  const under = input.under?.replace(/\/+$/, "") ?? "";
  // Folders chosen are made even when empty, with their subfolders: "restore /Inbox/Projects" brings the folder back.
  for (const path of [...sourcePaths.values()].filter((p) => p && (input.folders ?? []).some((f) => p === f || p.startsWith(`${f}/`))).sort()) await ensureFolder(`${under}${path}`);
  for (const item of selected) {
    const path = `${under}${sourcePaths.get(item.folder_id!) ?? "/Inbox"}`;
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
      const bytes = await source.readBlob(item.blob_digest!).catch(() => null);
      if (!bytes) {
        result.problems.push(`message ${item.id} "${item.subject ?? ""}": its body is on neither the volume nor the backup`);
        continue;
      }
      const delivered = await deliverMessage(store, { recipients: [target.email], bytes, folderId, flags: flagsToNames(item.flags) });
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
    result.items.push({ from: item.id, to: newId });
  }
  return result;
}
