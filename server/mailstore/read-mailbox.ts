/** A mailbox as the account page shows it: its row and its folders with counts and sizes. */
import { MailboxNotFoundError } from "./errors.ts";
import { FLAG, type MailboxRow } from "./items.ts";
import type { Mailstore } from "./mailstore.ts";
import { groupSchema } from "./schema.ts";

export interface FolderSummary {
  id: number;
  name: string;
  path: string;
  parentId: number | null;
  messages: number;
  unread: number;
  bytes: number;
  contacts: number;
}

export interface MailboxSummary {
  id: number;
  groupId: number;
  email: string;
  changeNumber: number;
  sizeBytes: number;
  quotaBytes: number;
  createdAt: string;
  lastBackupAt: string | null;
  folders: FolderSummary[];
  tags: { id: number; name: string; items: number }[];
}

export async function mailboxSummary(store: Mailstore, accountId: string): Promise<MailboxSummary> {
  const { rows } = await store.pool.query<MailboxRow>("SELECT * FROM mailstore.mailbox WHERE account_id = $1", [accountId]);
  const mailbox = rows[0];
  if (!mailbox) throw new MailboxNotFoundError(accountId);
  const items = `${groupSchema(mailbox.group_id)}.item`;
  const { rows: folders } = await store.pool.query<{ id: number; name: string; parent_id: number | null; messages: number; unread: number; bytes: string | null; contacts: number }>(
    `SELECT f.id, f.name, f.parent_id,
            count(m.id) FILTER (WHERE m.type = 'message') AS messages,
            count(m.id) FILTER (WHERE m.type = 'message' AND m.flags & ${FLAG.read} = 0) AS unread,
            sum(m.size) FILTER (WHERE m.type = 'message') AS bytes,
            count(m.id) FILTER (WHERE m.type = 'contact') AS contacts
       FROM ${items} f LEFT JOIN ${items} m ON m.mailbox_id = f.mailbox_id AND m.folder_id = f.id
      WHERE f.mailbox_id = $1 AND f.type = 'folder'
      GROUP BY f.id, f.name, f.parent_id ORDER BY f.id`,
    [mailbox.id],
  );
  const { rows: tags } = await store.pool.query<{ id: number; name: string; items: number }>(
    `SELECT t.id, t.name, (SELECT count(*) FROM ${items} i WHERE i.mailbox_id = t.mailbox_id AND t.id = ANY(i.tags)) AS items
       FROM ${items} t WHERE t.mailbox_id = $1 AND t.type = 'tag' ORDER BY t.name`,
    [mailbox.id],
  );
  const byId = new Map(folders.map((f) => [f.id, f]));
  const pathOf = (id: number): string => {
    const f = byId.get(id);
    if (!f || f.parent_id === null) return "";
    return `${pathOf(f.parent_id)}/${f.name}`;
  };
  return {
    id: mailbox.id,
    groupId: mailbox.group_id,
    email: mailbox.email,
    changeNumber: mailbox.change_number,
    sizeBytes: mailbox.size_bytes,
    quotaBytes: mailbox.quota_bytes,
    createdAt: mailbox.created_at.toISOString(),
    lastBackupAt: mailbox.last_backup_at?.toISOString() ?? null,
    folders: folders
      .filter((f) => f.parent_id !== null)
      .map((f) => ({ id: f.id, name: f.name, path: pathOf(f.id), parentId: f.parent_id, messages: f.messages, unread: f.unread, bytes: Number(f.bytes ?? 0), contacts: f.contacts }))
      .sort((a, b) => a.path.localeCompare(b.path)),
    tags,
  };
}
