/**
 * The messages of an account's mailbox, a page at a time, with its folder tree: live, as a backup
 * session holds it, or as it was at a point in time (server/explore/views.ts). Item ids and
 * folder paths are the ones copy-back and item restores take. `folder` is a folder id or a path
 * (`/Inbox/Projects`); `q` matches subject or sender, `subject`, `from` and `to` one field each
 * (case-insensitively), `after` and `before` bound the date.
 *
 * `to` is not a column: recipients live in the message's header, so a recipient search reads the
 * headers of the messages the other filters leave, newest first, up to TO_SCAN of them, and says
 * when it stopped there.
 */
import libmime from "libmime";
import { z } from "zod";
import { MailvaultError } from "../errors.ts";
import { MailboxNotFoundError, StoreUnavailableError } from "../mailstore/errors.ts";
import { flagsToNames, FLAG } from "../mailstore/items.ts";
import { mailboxSummary, type FolderSummary } from "../mailstore/read-mailbox.ts";
import { groupSchema } from "../mailstore/schema.ts";
import { parseTime } from "../time/parse-time.ts";
import { wholeNumber } from "../validation/whole-number.ts";
import { mailSource, pointInput, type MailSource, type ViewPreparing } from "./views.ts";

/** At most this many messages have their headers read for a recipient search. */
export const TO_SCAN = 2_000;

const text = (name: string) => z.string().trim().max(200, `${name} is at most 200 characters`).optional();

export const listMessagesInput = z.object({
  folder: z.string().trim().min(1).optional(),
  q: text("q"),
  subject: text("subject"),
  from: text("from"),
  to: text("to"),
  after: z.string().trim().min(1).optional(),
  before: z.string().trim().min(1).optional(),
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
  /** What was read: the live mailbox, or a backup at a session or a time. */
  source: { kind: "live" | "backup"; description: string; label: string | null; at: string | null };
  mailbox: { id: number; email: string; sizeBytes: number; quotaBytes: number };
  folders: FolderSummary[];
  tags: { id: number; name: string; items: number }[];
  /** The folder listed, or null for every folder. */
  folder: FolderSummary | null;
  messages: MessageView[];
  total: number;
  page: number;
  pageSize: number;
  /** A recipient search that stopped after TO_SCAN messages: there may be more matches. */
  scanLimited?: boolean;
}

export class FolderNotFoundError extends MailvaultError {
  constructor(mailbox: string, folder: string) {
    super("not_found", "folder_not_found", `${mailbox} has no folder ${folder}`);
  }
}

/** The live mailbox's messages (copy-back's browser, tests). */
export async function listMessages(accountId: string, raw: z.input<typeof listMessagesInput>): Promise<MessageList> {
  return exploreMessages(accountId, raw) as Promise<MessageList>;
}

/** Messages live, or of a backup when `label` or `at` is given; `preparing` while a worker reads the backup. */
export async function exploreMessages(accountId: string, raw: z.input<typeof listMessagesInput> & { label?: string; at?: string }): Promise<MessageList | ViewPreparing> {
  const { label, at, ...query } = raw;
  const input = listMessagesInput.parse(query);
  const point = pointInput.parse({ label, at });
  const source = await mailSource(accountId, point, { waitMs: 15_000 }).catch((error: Error) => {
    throw error instanceof MailvaultError ? error : new StoreUnavailableError("mail server", error.message);
  });
  if ("state" in source) return source;
  return listSourceMessages(source, input);
}

const like = (value: string | undefined) => (value ? value.replace(/[\\%_]/g, (c) => `\\${c}`) : null);

/** Recipients (To, Cc) from a message's header block, encoded words decoded, lower-cased. */
export function recipientsOf(bytes: Buffer): string {
  const head = bytes.subarray(0, 65_536).toString("utf8");
  const end = head.search(/\r?\n\r?\n/);
  const unfolded = (end < 0 ? head : head.slice(0, end)).replace(/\r?\n[ \t]+/g, " ");
  const lines = unfolded.split(/\r?\n/).filter((line) => /^(to|cc):/i.test(line));
  return lines
    .map((line) => {
      try {
        return libmime.decodeWords(line);
      } catch {
        return line;
      }
    })
    .join(" ")
    .toLowerCase();
}

export async function listSourceMessages(source: MailSource, input: z.output<typeof listMessagesInput>): Promise<MessageList> {
  const { store, account } = source;
  const summary = await mailboxSummary(store, source.mailboxAccountId).catch((error: Error) => {
    if (error instanceof MailboxNotFoundError) throw new MailboxNotFoundError(`${account.email} (${source.description})`);
    throw error;
  });
  let folder: FolderSummary | null = null;
  if (input.folder) {
    const wanted = input.folder.replace(/\/+$/, "");
    folder =
      summary.folders.find((f) => (/^\d+$/.test(wanted) ? f.id === Number(wanted) : f.path.toLowerCase() === wanted.toLowerCase())) ??
      null;
    if (!folder) throw new FolderNotFoundError(account.email, input.folder);
  }
  const after = input.after ? parseTime(input.after, "time (after)") : null;
  const before = input.before ? parseTime(input.before, "time (before)") : null;
  const items = `${groupSchema(summary.groupId)}.item`;
  const where = `mailbox_id = $1 AND type = 'message' AND ($2::bigint IS NULL OR folder_id = $2)
    AND ($3::text IS NULL OR subject ILIKE '%' || $3 || '%' OR sender ILIKE '%' || $3 || '%')
    AND ($4::text IS NULL OR subject ILIKE '%' || $4 || '%') AND ($5::text IS NULL OR sender ILIKE '%' || $5 || '%')
    AND ($6::timestamptz IS NULL OR date >= $6) AND ($7::timestamptz IS NULL OR date < $7)`;
  const params = [summary.id, folder?.id ?? null, like(input.q), like(input.subject), like(input.from), after, before];
  type Row = { id: number; subject: string | null; sender: string | null; date: Date; size: number; flags: number; tags: number[]; folder_id: number; blob_digest: string };
  const columns = "id, subject, sender, date, size, flags, tags, folder_id, blob_digest";
  let rows: Row[];
  let total: number;
  let scanLimited = false;
  if (input.to) {
    const wanted = input.to.toLowerCase();
    const { rows: candidates } = await store.pool.query<Row>(`SELECT ${columns} FROM ${items} WHERE ${where} ORDER BY date DESC, id DESC LIMIT ${TO_SCAN + 1}`, params);
    scanLimited = candidates.length > TO_SCAN;
    const matched: Row[] = [];
    for (let i = 0; i < Math.min(candidates.length, TO_SCAN); i += 8) {
      const batch = candidates.slice(i, i + 8);
      const heads = await Promise.all(batch.map((m) => source.readHead(m.blob_digest).then(recipientsOf, () => "")));
      batch.forEach((m, j) => heads[j]!.includes(wanted) && matched.push(m));
    }
    total = matched.length;
    rows = matched.slice((input.page - 1) * input.pageSize, input.page * input.pageSize);
  } else {
    const [{ rows: page }, { rows: count }] = await Promise.all([
      store.pool.query<Row>(`SELECT ${columns} FROM ${items} WHERE ${where} ORDER BY date DESC, id DESC LIMIT $8 OFFSET $9`, [
        ...params,
        input.pageSize,
        (input.page - 1) * input.pageSize,
      ]),
      store.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${items} WHERE ${where}`, params),
    ]);
    rows = page;
    total = count[0]!.n;
  }
  const paths = new Map(summary.folders.map((f) => [f.id, f.path]));
  const tagNames = new Map(summary.tags.map((t) => [t.id, t.name]));
  return {
    account: { id: account.id, email: account.email, server: account.server },
    source: { kind: source.kind, description: source.description, label: source.label, at: source.at },
    mailbox: { id: summary.id, email: account.email, sizeBytes: summary.sizeBytes, quotaBytes: summary.quotaBytes },
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
    total,
    page: input.page,
    pageSize: input.pageSize,
    ...(scanLimited ? { scanLimited } : {}),
  };
}
