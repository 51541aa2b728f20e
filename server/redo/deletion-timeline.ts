/**
 * The deletion timeline of a server (or of one account, by any name it ever had): which items
 * were deleted or moved to Trash, when, with their subjects and folders, newest first, each with
 * the restore point just before it. Reads the redo from every place it lives, newest first and
 * deduplicated (read-redo-newest-first.ts): the completed sessions on the backup target, the
 * redo archive and the current log; stops after `limit` entries. Folder ids are turned into
 * paths as they were at the time (folder-names.ts).
 */
import { z } from "zod";
import { BackupTarget } from "../backup/target.ts";
import { consolePool } from "../db/console-db.ts";
import { getServer } from "../directory/list-servers.ts";
import { accountsByAnyName, type NamedAccount } from "../directory/resolve-account.ts";
import { InvalidInputError, MailvaultError } from "../errors.ts";
import { StoreUnavailableError } from "../mailstore/errors.ts";
import { openMailstore } from "../mailstore/mailstore.ts";
import { parseTime } from "../time/parse-time.ts";
import { describeRecord } from "./describe-record.ts";
import { FolderNames } from "./folder-names.ts";
import { readRedoNewestFirst, type SegmentSource } from "./read-redo-newest-first.ts";
import type { RedoRecord } from "./segment-format.ts";

export const DELETION_OPS = ["DeleteItems", "MoveItems", "EmptyFolder", "PurgeOldMessages", "DeleteMailbox"] as const;
const FOLDER_OPS = ["CreateFolder", "RenameFolder"];
/** Items listed per entry; `count` says how many there were. */
const ITEMS_PER_ENTRY = 100;

export const deletionQueryInput = z.object({
  account: z.string().trim().min(1).optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  /** Older entries than this sequence number: pass the previous page's `nextBeforeSeq`. */
  beforeSeq: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1, "limit is at least 1").max(1000, "limit can be at most 1000").default(100),
});

export interface DeletedItemView {
  id: number;
  type: string;
  subject: string | null;
  name: string | null;
  folderId: number | null;
  folder: string | null;
}

export interface DeletionEntry {
  seq: number;
  at: string;
  accountId: string;
  /** The account's email at that time. */
  email: string | null;
  mailboxId: number;
  op: (typeof DELETION_OPS)[number];
  summary: string;
  /** The folder the items were in (emptied, purged, or all deleted/trashed items' folder); null when several or none. */
  folderId: number | null;
  folder: string | null;
  items: DeletedItemView[];
  count: number;
  restoreBefore: { restoreToRedoSeq: number; restoreToTime: string };
}

export interface DeletionTimeline {
  server: string;
  accounts: NamedAccount[];
  entries: DeletionEntry[];
  /** Pass as beforeSeq for older entries; null when there are none. */
  nextBeforeSeq: number | null;
  warnings: string[];
}

type P = Record<string, unknown>;
const list = (v: unknown) => (Array.isArray(v) ? (v as P[]) : []);
const num = (v: unknown) => (v === null || v === undefined || !Number.isFinite(Number(v)) ? null : Number(v));

function isDeletion(r: RedoRecord): boolean {
  if (r.op === "MoveItems") return (r.payload as P).toTrash === true;
  return (DELETION_OPS as readonly string[]).includes(r.op);
}

/** The redo segments every published session holds on the backup target. */
async function sessionSegments(backupTarget: string, server: string): Promise<SegmentSource[]> {
  const target = new BackupTarget(backupTarget, server);
  const sources: SegmentSource[] = [];
  for (const label of await target.publishedLabels()) {
    for (const segment of await target.sessionSegments(label)) {
      const relative = `redologs/${segment.name}`;
      sources.push({ ...segment, where: target.describe(target.sessionObject(label, relative)), open: async () => ({ file: target.sessionFileReader(label, relative), close: async () => {} }) });
    }
  }
  return sources;
}

async function namesOf(accountIds: string[]): Promise<Map<string, { email: string; from: number; to: number }[]>> {
  const { rows } = await consolePool().query<{ account_id: string; email: string; valid_from: Date; valid_to: Date | null }>(
    "SELECT account_id, email, valid_from, valid_to FROM account_name WHERE account_id = ANY($1::uuid[]) ORDER BY valid_from",
    [accountIds],
  );
  const names = new Map<string, { email: string; from: number; to: number }[]>();
  for (const r of rows) names.set(r.account_id, [...(names.get(r.account_id) ?? []), { email: r.email, from: r.valid_from.getTime(), to: r.valid_to?.getTime() ?? Infinity }]);
  return names;
}

function toEntry(r: RedoRecord, folders: FolderNames, email: string | null): DeletionEntry {
  const p = r.payload as P;
  const where = (id: unknown) => ({ folderId: num(id), folder: folders.pathAt(r.accountId, num(id), r.seq) });
  const raw: P[] = r.op === "MoveItems" ? list(p.moved).map((m) => ({ ...m, folderId: m.from })) : list(p.deleted);
  const items = raw.slice(0, ITEMS_PER_ENTRY).map((d) => ({
    id: Number(d.id),
    type: String(d.type),
    subject: typeof d.subject === "string" ? d.subject : null,
    name: typeof d.name === "string" ? d.name : null,
    ...where(d.folderId),
  }));
  const itemFolders = [...new Set(raw.map((d) => num(d.folderId)))];
  const folderId = r.op === "EmptyFolder" || r.op === "PurgeOldMessages" ? num(p.folderId) : itemFolders.length === 1 ? itemFolders[0]! : null;
  return {
    seq: r.seq,
    at: r.at,
    accountId: r.accountId,
    email: email ?? (typeof p.email === "string" ? p.email : null),
    mailboxId: r.mailboxId,
    op: r.op as DeletionEntry["op"],
    summary: describeRecord(r),
    ...where(folderId),
    items,
    count: r.op === "DeleteMailbox" ? Number(p.items ?? 0) : raw.length,
    restoreBefore: { restoreToRedoSeq: r.seq - 1, restoreToTime: new Date(Date.parse(r.at) - 1).toISOString() },
  };
}

export async function deletionTimeline(serverName: string, raw: z.input<typeof deletionQueryInput>): Promise<DeletionTimeline> {
  const input = deletionQueryInput.parse(raw);
  const server = await getServer(serverName);
  const fromTime = input.from ? parseTime(input.from, "from time") : undefined;
  const toTime = input.to ? parseTime(input.to, "to time") : undefined;
  if (fromTime && toTime && fromTime > toTime) throw new InvalidInputError("the from time is after the to time");
  let accounts: NamedAccount[] = [];
  if (input.account) {
    const found = await accountsByAnyName(input.account);
    accounts = found.filter((a) => a.server === server.name);
    if (accounts.length === 0) throw new MailvaultError("invalid", "wrong_server", `${input.account} lives on ${found[0]!.server}, not ${server.name}`);
  }
  const store = await openMailstore(server.name).catch((error: Error) => {
    throw error instanceof MailvaultError ? error : new StoreUnavailableError(server.name, error.message);
  });
  const warnings: string[] = [];
  const folders = new FolderNames();
  const found: RedoRecord[] = [];
  let more = false;
  const filter = {
    accountIds: accounts.length ? accounts.map((a) => a.id) : undefined,
    ops: [...DELETION_OPS, ...FOLDER_OPS],
    fromTime,
    toTime,
    toSeq: input.beforeSeq === undefined ? undefined : input.beforeSeq - 1,
  };
  const segments = await sessionSegments(server.backupTarget, server.name);
  for await (const record of readRedoNewestFirst(store, filter, { segments, onWarning: (w) => warnings.push(w) })) {
    folders.observe(record);
    if (!isDeletion(record)) continue;
    if (found.length === input.limit) {
      more = true;
      break;
    }
    found.push(record);
  }
  const accountIds = [...new Set(found.map((r) => r.accountId))];
  await folders.loadCurrent(store, accountIds);
  const names = await namesOf(accountIds);
  const emailAt = (r: RedoRecord) => {
    const at = Date.parse(r.at);
    return names.get(r.accountId)?.find((n) => n.from <= at && at < n.to)?.email ?? names.get(r.accountId)?.at(-1)?.email ?? null;
  };
  const entries = found.map((r) => toEntry(r, folders, emailAt(r)));
  return { server: server.name, accounts, entries, nextBeforeSeq: more ? entries.at(-1)!.seq : null, warnings };
}
