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
import { openMailstore, type Mailstore } from "../mailstore/mailstore.ts";
import { loadCompletedSessions } from "../restore/load-plan-inputs.ts";
import { buildRestoreTimeline, whyNotRecoverable } from "../restore/restore-timeline.ts";
import { parseTime } from "../time/parse-time.ts";
import { describeRecord, opName } from "./describe-record.ts";
import { FolderNames } from "./folder-names.ts";
import { redoCoverage } from "./redo-coverage.ts";
import { readRedoNewestFirst, type SegmentSource } from "./read-redo-newest-first.ts";
import type { RedoRecord } from "./segment-format.ts";
import { wholeNumber } from "../validation/whole-number.ts";

export const DELETION_OPS = ["DeleteItems", "MoveItems", "EmptyFolder", "PurgeOldMessages", "DeleteMailbox"] as const;
const FOLDER_OPS = ["CreateFolder", "RenameFolder"];
/** Items listed per entry; `count` says how many there were. */
const ITEMS_PER_ENTRY = 100;

export const deletionQueryInput = z.object({
  account: z.string().trim().min(1).optional(),
  /** Matches folder names and paths, subjects and item names, ignoring case. */
  q: z.string().trim().max(200, "the search is at most 200 characters").optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  /** Older entries than this sequence number: pass the previous page's `nextBeforeSeq`. */
  beforeSeq: wholeNumber("beforeSeq").optional(),
  limit: wholeNumber("limit", { max: 1000 }).default(100),
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
  /** The operation in words ("Items deleted", "Moved to Trash"). */
  opName: string;
  summary: string;
  /** The folder the items were in (emptied, purged, or all deleted/trashed items' folder); null when several or none. */
  folderId: number | null;
  folder: string | null;
  items: DeletedItemView[];
  count: number;
  /** What the user lost, in plain words: "Folder /Inbox/Projects and its 3 messages deleted". */
  what: string;
  /** The same as an event, for "just before …": "folder /Inbox/Projects was deleted". */
  event: string;
  /** The restore point this entry offers, in the caller's terms: "2026-12-01 14:52 UTC, just before folder /Inbox/Projects was deleted". */
  justBefore: string;
  /** Folders that went with their contents (deleted, emptied or moved to Trash), with what they held as far as the redo says. */
  folders: { path: string; messages: number; subfolders: number }[];
  /** Messages that went (inside those folders included). */
  messages: number;
  restoreBefore: { restoreToRedoSeq: number; restoreToTime: string };
  /** Whether "just before this" can be restored, and if not, why (outside the account's recoverable window). */
  restorable: { ok: true } | { ok: false; reason: string };
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
      sources.push({ ...segment, where: target.describe(segment.object), open: async () => ({ file: target.segmentReader(segment.object), close: async () => {} }) });
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

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function subjects(items: P[]): string {
  const named = items.map((d) => (typeof d.subject === "string" && d.subject ? d.subject : typeof d.name === "string" ? d.name : null)).filter(Boolean) as string[];
  const cut = (t: string) => (t.length > 40 ? `${t.slice(0, 39)}…` : t);
  return named.length ? `: ${named.slice(0, 2).map(cut).join(", ")}${named.length > 2 ? ` and ${named.length - 2} more` : ""}` : "";
}

function kinds(items: P[]): string {
  const messages = items.filter((d) => d.type === "message").length;
  const others = items.length - messages;
  const parts = [messages ? plural(messages, "message") : "", others ? plural(others, "item") : ""].filter(Boolean);
  return parts.join(" and ");
}

/**
 * What went, from the record's own list: the folders taken whole (each with the messages and
 * subfolders under it) and the loose items, so a folder deleted with its contents is one phrase.
 */
function describeLoss(r: RedoRecord, raw: P[], folderPath: (id: number | null) => string | null): Pick<DeletionEntry, "what" | "event" | "folders" | "messages"> {
  const p = r.payload as P;
  const messages = raw.filter((d) => d.type === "message").length;
  const ids = new Set(raw.map((d) => num(d.id)));
  const parentOf = (d: P) => num(d.folderId);
  /** `start` and every listed item below it. */
  const below = (start: (number | null)[], among: P[]) => {
    const found = new Set(start);
    for (let grew = true; grew; ) {
      grew = false;
      for (const d of among) {
        if (found.has(num(d.id)) || !found.has(parentOf(d))) continue;
        found.add(num(d.id));
        grew = true;
      }
    }
    return found;
  };
  // A folder whose parent is not in the list was taken whole (the others went inside it); a move
  // lists only what was moved.
  const gone = raw.filter((d) => d.type === "folder");
  const roots = r.op === "MoveItems" ? gone : gone.filter((d) => !ids.has(parentOf(d)));
  const under = (root: number | null) => {
    const inside = below([root], gone);
    return { folders: inside.size - 1, messages: raw.filter((d) => d.type === "message" && inside.has(parentOf(d))).length };
  };
  const pathOf = (d: P) => {
    const parent = folderPath(parentOf(d));
    const name = typeof d.name === "string" ? d.name : `#${String(d.id)}`;
    return parent && parent !== "/" ? `${parent}/${name}` : `/${name}`;
  };
  const taken = roots.map((d) => {
    const inside = under(num(d.id));
    return { path: pathOf(d), messages: inside.messages, subfolders: inside.folders };
  });
  const inTaken = below(roots.map((d) => num(d.id)), raw);
  const loose = raw.filter((d) => !inTaken.has(num(d.id)));
  const looseFolders = [...new Set(loose.map(parentOf))];
  const from = looseFolders.length === 1 ? ` from ${folderPath(looseFolders[0]!) ?? "a folder"}` : looseFolders.length > 1 ? ` from ${looseFolders.length} folders` : "";
  const folderPhrase = (f: { path: string; messages: number; subfolders: number }) => {
    const held = [f.messages ? plural(f.messages, "message") : "", f.subfolders ? plural(f.subfolders, "subfolder") : ""].filter(Boolean).join(" and ");
    return `Folder ${f.path}${held ? ` and its ${held}` : ""}`;
  };
  let what: string;
  let event: string;
  const was = (n: number) => (n === 1 ? "was" : "were");
  const first = taken[0];
  switch (r.op) {
    case "EmptyFolder": {
      const path = folderPath(num(p.folderId)) ?? `folder ${String(p.folderId)}`;
      const subfolders = taken.length;
      what = `Folder ${path} emptied (${[plural(messages, "message"), subfolders ? plural(subfolders, "subfolder") : ""].filter(Boolean).join(", ")})`;
      event = `folder ${path} was emptied`;
      break;
    }
    case "PurgeOldMessages":
      what = `${plural(messages, "message")} purged by the retention policy from ${folderPath(num(p.folderId)) ?? `folder ${String(p.folderId)}`}`;
      event = `${plural(messages, "message")} ${was(messages)} purged from ${folderPath(num(p.folderId)) ?? `folder ${String(p.folderId)}`}`;
      break;
    case "DeleteMailbox":
      what = `Mailbox of ${String(p.email ?? "the account")} deleted (${plural(Number(p.items ?? 0), "item")})`;
      event = "the mailbox was deleted";
      break;
    case "MoveItems": {
      if (!taken.length) what = `${kinds(loose)} moved to Trash${from}${subjects(loose)}`;
      else what = `${[...taken.map((f) => `Folder ${f.path}`), loose.length ? `${kinds(loose)}${from}` : ""].filter(Boolean).join(" and ")} moved to Trash`;
      event = first ? `folder ${first.path} was moved to Trash` : `${kinds(loose)} ${was(loose.length)} moved to Trash${from}`;
      break;
    }
    default: {
      if (!taken.length) what = `${kinds(loose)} deleted${from}${subjects(loose)}`;
      else what = `${[...taken.map(folderPhrase), loose.length ? `${kinds(loose)}${from}` : ""].filter(Boolean).join(", and ")} deleted`;
      event = first ? `folder ${first.path} was deleted` : `${kinds(loose)} ${was(loose.length)} deleted${from}`;
    }
  }
  return { what, event, folders: taken, messages };
}

/** "2026-12-01 14:52 UTC, just before folder /Inbox/Projects was deleted": the plan, the run and the copy say it so. */
export function justBeforePhrase(at: string, event: string): string {
  return `${at.slice(0, 16).replace("T", " ")} UTC, just before ${event}`;
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
  const loss = describeLoss(r, raw, (id) => folders.pathAt(r.accountId, id, r.seq));
  return {
    seq: r.seq,
    at: r.at,
    accountId: r.accountId,
    email: email ?? (typeof p.email === "string" ? p.email : null),
    mailboxId: r.mailboxId,
    op: r.op as DeletionEntry["op"],
    opName: r.op === "MoveItems" ? "Moved to Trash" : opName(r.op),
    summary: describeRecord(r),
    ...where(folderId),
    items,
    count: r.op === "DeleteMailbox" ? Number(p.items ?? 0) : raw.length,
    ...loss,
    justBefore: justBeforePhrase(r.at, loss.event),
    restoreBefore: { restoreToRedoSeq: r.seq - 1, restoreToTime: new Date(Date.parse(r.at) - 1).toISOString() },
    restorable: { ok: true },
  };
}

/** Entries that changed nothing (a purge that found nothing, an empty folder emptied) are noise. */
function changedSomething(r: RedoRecord): boolean {
  const p = r.payload as P;
  if (r.op === "DeleteMailbox") return true;
  return (r.op === "MoveItems" ? list(p.moved) : list(p.deleted)).length > 0;
}

function matchesQuery(entry: DeletionEntry, q: string): boolean {
  const needle = q.toLowerCase();
  const texts = [entry.what, entry.folder, ...entry.folders.map((f) => f.path), ...entry.items.flatMap((i) => [i.subject, i.name, i.folder])];
  return texts.some((t) => typeof t === "string" && t.toLowerCase().includes(needle));
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
  // Names and folder paths are settled once the scan is done (the current folders are loaded for
  // the accounts found), so with a search every deletion is kept until then and matched after.
  const limit = input.q ? Math.max(input.limit * 20, 1000) : input.limit;
  for await (const record of readRedoNewestFirst(store, filter, { segments, onWarning: (w) => warnings.push(w) })) {
    folders.observe(record);
    if (!isDeletion(record) || !changedSomething(record)) continue;
    if (found.length === limit) {
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
  let entries = found.map((r) => toEntry(r, folders, emailAt(r)));
  if (input.q) {
    const matching = entries.filter((e) => matchesQuery(e, input.q!));
    more = more || matching.length > input.limit;
    entries = matching.slice(0, input.limit);
  }
  await markRestorable(server.name, store, entries, warnings);
  return { server: server.name, accounts, entries, nextBeforeSeq: more ? (entries.at(-1)?.seq ?? found.at(-1)!.seq) : null, warnings };
}

/**
 * Marks the entries whose "just before" lies outside their account's recoverable window (before
 * its oldest full backup, or in a hole of the redo), with the reason in the caller's terms. An
 * account with no full backup at all is left to the planner, which may rebuild it from the redo
 * alone.
 */
async function markRestorable(serverName: string, store: Mailstore, entries: DeletionEntry[], warnings: string[]): Promise<void> {
  if (entries.length === 0) return;
  const accountIds = [...new Set(entries.map((e) => e.accountId))];
  const sessions = await loadCompletedSessions(serverName, { accountIds });
  const coverage = await redoCoverage(store, { withTimes: true }).catch((error: Error) => {
    warnings.push(`the redo archive and current log cannot be read: ${error.message}`);
    return null;
  });
  const { rows } = await consolePool().query<{ id: string; deleted_at: Date | null }>("SELECT id, deleted_at FROM account WHERE id = ANY($1::uuid[])", [accountIds]);
  const deletedAt = new Map(rows.map((r) => [r.id, r.deleted_at]));
  const now = new Date();
  const timelines = new Map(
    accountIds.map((id) => [id, buildRestoreTimeline({ accountId: id, sessions, coverage, now, deletedAt: deletedAt.get(id) ?? null })]),
  );
  for (const entry of entries) {
    const reason = whyNotRecoverable(timelines.get(entry.accountId)!, { seq: entry.restoreBefore.restoreToRedoSeq });
    if (reason) entry.restorable = { ok: false, reason };
  }
}
