/**
 * The messages of an account's mailbox, a page at a time, with its folder tree: what the console
 * shows to browse a prefixed copy (restore_alice@...) and choose what to copy back. Item ids and
 * folder paths are the ones copy-back (server/restore/copy-back.ts) takes. `folder` is a folder
 * id or a path (`/Inbox/Projects`); `q` matches subject or sender, case-insensitively.
 */
import { z } from "zod";
import { getAccount } from "../directory/get-account.ts";
import { MailvaultError } from "../errors.ts";
import { MailboxNotFoundError, StoreUnavailableError } from "./errors.ts";
import { flagsToNames, FLAG } from "./items.ts";
import { openMailstore } from "./mailstore.ts";
import { mailboxSummary, type FolderSummary } from "./read-mailbox.ts";
import { groupSchema } from "./schema.ts";
import { wholeNumber } from "../validation/whole-number.ts";

export const listMessagesInput = z.object({
  folder: z.string().trim().min(1).optional(),
  q: z.string().trim().max(200, "q is at most 200 characters").optional(),
  page: wholeNumber("page").default(1),
  pageSize: wholeNumber("pageSize", { max: 200 }).default(50),
});

export interface MessageView {
  /** The item id in this mailbox: what copy-back's `itemIds` takes. */
  id: number;
  subject: string | null;
  from: string | null;
  date: string;
  size: number;
  read: boolean;
  flagged: boolean;
  flags: string[];
  tags: string[];
  folderId: number;
  /** The folder's path: what copy-back's `folders` takes. */
  folder: string;
}

export interface MessageList {
  account: { id: string; email: string; server: string };
  mailbox: { id: number; email: string; sizeBytes: number; quotaBytes: number };
  folders: FolderSummary[];
  tags: { id: number; name: string; items: number }[];
  /** The folder listed, or null for every folder. */
  folder: FolderSummary | null;
  messages: MessageView[];
  total: number;
  page: number;
  pageSize: number;
}

export class FolderNotFoundError extends MailvaultError {
  constructor(mailbox: string, folder: string) {
    super("not_found", "folder_not_found", `${mailbox} has no folder ${folder}`);
  }
}

export async function listMessages(accountId: string, raw: z.input<typeof listMessagesInput>): Promise<MessageList> {
  const input = listMessagesInput.parse(raw);
  const account = await getAccount(accountId);
  if (account.deletedAt) throw new MailboxNotFoundError(`${account.email} (deleted ${account.deletedAt}; restore it into a copy to browse it)`);
  const store = await openMailstore(account.server).catch((error: Error) => {
    throw error instanceof MailvaultError ? error : new StoreUnavailableError(account.server, error.message);
  });
  const summary = await mailboxSummary(store, account.id);
  let folder: FolderSummary | null = null;
  if (input.folder) {
    const wanted = input.folder.replace(/\/+$/, "");
    folder =
      summary.folders.find((f) => (/^\d+$/.test(wanted) ? f.id === Number(wanted) : f.path.toLowerCase() === wanted.toLowerCase())) ??
      null;
    if (!folder) throw new FolderNotFoundError(account.email, input.folder);
  }
  const items = `${groupSchema(summary.groupId)}.item`;
  const where = `mailbox_id = $1 AND type = 'message' AND ($2::bigint IS NULL OR folder_id = $2)
    AND ($3::text IS NULL OR subject ILIKE '%' || $3 || '%' OR sender ILIKE '%' || $3 || '%')`;
  const like = input.q ? input.q.replace(/[\\%_]/g, (c) => `\\${c}`) : null;
  const params = [summary.id, folder?.id ?? null, like];
  const [{ rows }, { rows: count }] = await Promise.all([
    store.pool.query<{ id: number; subject: string | null; sender: string | null; date: Date; size: number; flags: number; tags: number[]; folder_id: number }>(
      `SELECT id, subject, sender, date, size, flags, tags, folder_id FROM ${items} WHERE ${where} ORDER BY date DESC, id DESC LIMIT $4 OFFSET $5`,
      [...params, input.pageSize, (input.page - 1) * input.pageSize],
    ),
    store.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${items} WHERE ${where}`, params),
  ]);
  const paths = new Map(summary.folders.map((f) => [f.id, f.path]));
  const tagNames = new Map(summary.tags.map((t) => [t.id, t.name]));
  return {
    account: { id: account.id, email: account.email, server: account.server },
    mailbox: { id: summary.id, email: summary.email, sizeBytes: summary.sizeBytes, quotaBytes: summary.quotaBytes },
    folders: summary.folders,
    tags: summary.tags,
    folder,
    messages: rows.map((m) => ({
      id: m.id,
      subject: m.subject,
      from: m.sender,
      date: m.date.toISOString(),
      size: m.size,
      read: (m.flags & FLAG.read) !== 0,
      flagged: (m.flags & FLAG.flagged) !== 0,
      flags: flagsToNames(m.flags),
      tags: m.tags.map((t) => tagNames.get(t)).filter((t): t is string => Boolean(t)),
      folderId: m.folder_id,
      folder: paths.get(m.folder_id) ?? "",
    })),
    total: count[0]!.n,
    page: input.page,
    pageSize: input.pageSize,
  };
}
