/**
 * The consistency check of a mailbox (M-Store's reconstruct -n, Zimbra's mailbox check): items
 * whose blob is missing from the volume or whose folder or parent does not exist, a mailbox size
 * that differs from its messages, items stamped with a change number or id beyond the mailbox's,
 * system folders missing. Reports; changes nothing. Reconstruct (an in-place restore to the last
 * committed change) repairs what it finds.
 */
import { InvalidInputError } from "../errors.ts";
import { FIRST_USER_ID, SYSTEM_FOLDERS, type ItemRow, type MailboxRow } from "../mailstore/items.ts";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { groupSchema } from "../mailstore/schema.ts";

export interface MailboxProblem {
  kind: "missing-blob" | "orphan" | "size" | "change-number" | "item-id" | "system-folder";
  itemId?: number;
  message: string;
}

export interface MailboxCheck {
  email: string;
  mailboxId: number;
  items: number;
  ok: boolean;
  problems: MailboxProblem[];
}

export async function checkMailbox(store: Mailstore, email: string): Promise<MailboxCheck> {
  const { rows: boxes } = await store.pool.query<MailboxRow>("SELECT * FROM mailstore.mailbox WHERE email = $1", [email.toLowerCase()]);
  const mailbox = boxes[0];
  if (!mailbox) throw new InvalidInputError(`no mailbox ${email} on ${store.server}`);
  const problems: MailboxProblem[] = [];
  let items: ItemRow[] | null = null;
  try {
    items = (await store.pool.query<ItemRow>(`SELECT * FROM ${groupSchema(mailbox.group_id)}.item WHERE mailbox_id = $1`, [mailbox.id])).rows;
  } catch (error) {
    problems.push({ kind: "orphan", message: `the items of mailbox group ${mailbox.group_id} cannot be read: ${(error as Error).message}` });
  }
  // Every mailbox has its system folders from creation on, so an emptied one (no items at all,
  // as a group that came back without it leaves it) lacks them too. Only unreadable items say
  // nothing about them.
  const byId = new Map((items ?? []).map((i) => [i.id, i]));
  if (items) for (const f of SYSTEM_FOLDERS) if (!byId.has(f.id)) problems.push({ kind: "system-folder", itemId: f.id, message: `system folder ${f.name || "root"} (${f.id}) is missing` });
  const checked = new Set<string>();
  let size = 0;
  for (const item of items ?? []) {
    if (item.type === "message") size += item.size;
    if (item.blob_digest && !checked.has(item.blob_digest)) {
      checked.add(item.blob_digest);
      if (!(await store.blobs.has(item.blob_digest))) problems.push({ kind: "missing-blob", itemId: item.id, message: `item ${item.id} "${item.subject ?? ""}" points to blob ${item.blob_digest}, missing from the volume` });
    }
    const container = item.type === "folder" ? item.parent_id : item.folder_id;
    if (container !== null && item.id !== 1 && item.type !== "tag" && !byId.has(container)) problems.push({ kind: "orphan", itemId: item.id, message: `item ${item.id} is in folder ${container}, which does not exist` });
    if (item.change_number > mailbox.change_number) problems.push({ kind: "change-number", itemId: item.id, message: `item ${item.id} has change number ${item.change_number}, beyond the mailbox's ${mailbox.change_number}` });
    if (item.id >= FIRST_USER_ID && item.id > mailbox.item_id_checkpoint) problems.push({ kind: "item-id", itemId: item.id, message: `item id ${item.id} is beyond the mailbox's checkpoint ${mailbox.item_id_checkpoint}` });
  }
  if (size !== mailbox.size_bytes) problems.push({ kind: "size", message: `the mailbox says ${mailbox.size_bytes} bytes; its messages add up to ${size}` });
  return { email: mailbox.email, mailboxId: mailbox.id, items: items?.length ?? 0, ok: problems.length === 0, problems };
}
