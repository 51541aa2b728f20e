/**
 * A mailbox's canonical export: what a user would see, without internal ids or times. Folders
 * by path; messages by blob digest with flags, tags (by name) and folder path; contacts by their
 * fields and folder. Two mailboxes with equal exports hold the same mail: this is the oracle the
 * restore tests compare against, and what copy-back uses to recognise a message.
 */
import type { ItemRow } from "../mailstore/items.ts";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { groupSchema } from "../mailstore/schema.ts";
import { MailboxNotFoundError } from "../mailstore/errors.ts";

export interface CanonicalExport {
  folders: string[];
  messages: string[];
  contacts: string[];
  tags: string[];
}

export function folderPaths(items: Pick<ItemRow, "id" | "type" | "parent_id" | "name">[]): Map<number, string> {
  const folders = new Map(items.filter((i) => i.type === "folder").map((f) => [f.id, f]));
  const paths = new Map<number, string>();
  const pathOf = (id: number): string => {
    const cached = paths.get(id);
    if (cached !== undefined) return cached;
    const f = folders.get(id);
    const p = !f || f.parent_id === null ? "" : `${pathOf(f.parent_id)}/${f.name}`;
    paths.set(id, p);
    return p;
  };
  for (const id of folders.keys()) pathOf(id);
  return paths;
}

export async function exportMailbox(store: Mailstore, ref: { accountId: string } | { mailboxId: number }): Promise<CanonicalExport> {
  const { rows: boxes } = await store.pool.query<{ id: number; group_id: number }>(
    `SELECT id, group_id FROM mailstore.mailbox WHERE ${"accountId" in ref ? "account_id" : "id"} = $1`,
    ["accountId" in ref ? ref.accountId : ref.mailboxId],
  );
  const box = boxes[0];
  if (!box) throw new MailboxNotFoundError("accountId" in ref ? ref.accountId : String(ref.mailboxId));
  const { rows: items } = await store.pool.query<ItemRow>(`SELECT * FROM ${groupSchema(box.group_id)}.item WHERE mailbox_id = $1`, [box.id]);
  return canonical(items);
}

export function canonical(items: ItemRow[]): CanonicalExport {
  const paths = folderPaths(items);
  const tagNames = new Map(items.filter((i) => i.type === "tag").map((t) => [t.id, t.name ?? ""]));
  const tags = (ids: number[]) => ids.map((id) => tagNames.get(id) ?? `?${id}`).sort().join(",");
  return {
    folders: [...paths.values()].filter(Boolean).sort(),
    messages: items
      .filter((i) => i.type === "message")
      .map((m) => `${paths.get(m.folder_id!) ?? "?"}|${m.blob_digest}|flags=${m.flags}|tags=${tags(m.tags)}|${m.subject ?? ""}`)
      .sort(),
    contacts: items
      .filter((i) => i.type === "contact")
      .map((c) => `${paths.get(c.folder_id!) ?? "?"}|${JSON.stringify((c.metadata as { fields?: unknown }).fields ?? {})}|tags=${tags(c.tags)}`)
      .sort(),
    tags: [...tagNames.values()].sort(),
  };
}
