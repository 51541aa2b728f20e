/**
 * The self-describing files of a session and of the target: session.json (what the session is
 * and holds), manifest.json (every file with its sha256 and size; manifest.sha256 checks the
 * manifest itself), and the target's accounts index (every account, every name it had, the
 * sessions that hold it), from which alone the catalog can be rebuilt.
 */
import { consolePool } from "../db/console-db.ts";
import type { SessionContext } from "./session-context.ts";
import type { BackupTarget, FileEntry } from "./target.ts";

export const SESSION_FORMAT = 1;

export interface SessionAccountEntry {
  accountId: string;
  email: string;
  kind: "full" | "redo";
  reason: string;
  changeNumber?: number;
  lastRedoSeq?: number;
  /** The fingerprint of the full's rows (earlier-dumps.ts). */
  fingerprint?: string;
  /** The earlier session whose dumps this full names (shared account files), the account being unchanged since. */
  dumpsFrom?: string;
  snapshotAt?: string;
  items?: number;
  messages?: number;
  blobs?: number;
  blobBytes?: number;
  /** Blobs the account named that were missing from the blob volume (sessions before this field: unknown). */
  missingBlobs?: number;
}

export interface SessionDescription {
  format: number;
  label: string;
  type: "full" | "incremental";
  mode: "standard" | "auto_grouped";
  server: string;
  status: string;
  requestedBy: string;
  requestedAccounts: string[];
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  /** `shipped`: the segments of `segments` the session names in the target's shipped redo (`redo/<name>`) instead of holding. */
  redo: { fromSeq: number | null; throughSeq: number; segments: string[]; shipped?: string[] } | null;
  accounts: SessionAccountEntry[];
  counts: {
    accounts: number;
    fulls: number;
    /** Fulls that name an earlier session's dumps (unchanged accounts; `dumpsCopied` in sessions that copied them). */
    dumpsShared?: number;
    items: number;
    messages: number;
    blobsReferenced: number;
    blobBytesReferenced: number;
    blobsNew: number;
    blobBytesNew: number;
    bytesWritten: number;
  } | null;
  warnings: string[];
  error: string | null;
  /** The format of the account dumps (earlier-dumps.ts DUMP_FORMAT); dumps are copied only between sessions that agree on it. */
  dumps?: string;
  /** backup --exclude-blobs: the fulls name their message bodies (blobs.txt) but the target holds none of them. */
  excludeBlobs?: boolean;
}

/**
 * Writes session.json, merged with what it said before. With `files` (the session's every other
 * file), the manifest is written too and the commit object (manifest.sha256) is returned for
 * `target.publish`; the session is not published until that is saved.
 */
export async function writeSessionDescription(ctx: SessionContext, update: Partial<SessionDescription>, files?: FileEntry[]): Promise<Buffer | null> {
  const s = ctx.session;
  const previous = await ctx.target.readSessionJson<SessionDescription>(ctx.label).catch(() => null);
  const description: SessionDescription = {
    format: SESSION_FORMAT,
    label: s.label,
    type: s.type,
    mode: s.mode,
    server: ctx.server.name,
    status: "running",
    requestedBy: s.requestedBy,
    requestedAccounts: s.requestedAccounts,
    createdAt: s.createdAt.toISOString(),
    startedAt: (s.startedAt ?? new Date()).toISOString(),
    endedAt: null,
    redo: null,
    accounts: [],
    counts: null,
    warnings: [],
    error: null,
    ...(s.excludeBlobs ? { excludeBlobs: true } : {}),
    ...previous,
    ...update,
  };
  if (description.status !== "running" && !description.endedAt) description.endedAt = new Date().toISOString();
  const bytes = Buffer.from(JSON.stringify(description, null, 2));
  // Before publishing, session.json is what the target says of the session: saved durably.
  if (!files) {
    await ctx.target.rewriteSessionJson(ctx.label, description);
    return null;
  }
  const entry = await ctx.target.writeSessionFile(ctx.label, "session.json", bytes);
  const manifest = Buffer.from(JSON.stringify({ format: SESSION_FORMAT, label: s.label, files: [...files, entry].sort((a, b) => a.path.localeCompare(b.path)) }, null, 2));
  const written = await ctx.target.writeSessionFile(ctx.label, "manifest.json", manifest);
  return Buffer.from(`${written.sha256}  manifest.json\n`);
}

export interface AccountsIndex {
  format: number;
  server: string;
  accounts: Record<string, { names: { email: string; validFrom: string; validTo: string | null }[]; sessions: { label: string; kind: "full" | "redo" }[] }>;
}

/** One session's part of the accounts index: its accounts, with every name each had by then. */
interface AccountsIndexDelta {
  format: number;
  server: string;
  label: string;
  accounts: Record<string, { names: { email: string; validFrom: string; validTo: string | null }[]; kind: "full" | "redo" }>;
}

const INDEX_FILE = "accounts-index.json";
const DELTA_FOLDER = "accounts-index";
/** Retention folds the deltas into accounts-index.json once there are more than this. */
const DELTAS_BEFORE_FOLDING = 64;

/**
 * The accounts index: accounts-index.json (every account, every name it had, the sessions
 * holding it, as of its last folding) plus one small file per session published since, so a
 * session writes only its own accounts: an incremental of 100 accounts on a server of 10,000
 * costs 100 entries, not 10,000.
 */
export async function readAccountsIndex(target: BackupTarget): Promise<AccountsIndex> {
  const index: AccountsIndex = (await target.readJsonObject<AccountsIndex>(INDEX_FILE)) ?? { format: SESSION_FORMAT, server: target.server, accounts: {} };
  const deltas = await readDeltas(target);
  for (const delta of deltas) {
    for (const [id, entry] of Object.entries(delta.accounts)) {
      const account = (index.accounts[id] ??= { names: [], sessions: [] });
      account.names = entry.names;
      if (!account.sessions.some((s) => s.label === delta.label)) account.sessions.push({ label: delta.label, kind: entry.kind });
    }
  }
  return index;
}

async function readDeltas(target: BackupTarget): Promise<AccountsIndexDelta[]> {
  const deltas: AccountsIndexDelta[] = [];
  for await (const info of target.backend.list(`${DELTA_FOLDER}/`)) {
    if (!info.name.endsWith(".json")) continue;
    const delta = await target.readJsonObject<AccountsIndexDelta>(info.name);
    if (delta) deltas.push(delta);
  }
  // Oldest first, so the newest names win.
  return deltas.sort((a, b) => a.label.slice(5).localeCompare(b.label.slice(5)));
}

/**
 * Drops removed sessions from the index: their delta files go, and accounts-index.json is
 * rewritten when it names one of them, or folded with every delta once there are many. The
 * folded file is written before the deltas are removed, so a crash between leaves both, which
 * read the same.
 */
export async function dropFromAccountsIndex(target: BackupTarget, removed: string[]): Promise<void> {
  for (const label of removed) await target.backend.remove(`${DELTA_FOLDER}/${label}.json`);
  const deltas = await readDeltas(target);
  const base = await target.backend.read(INDEX_FILE).then((b) => b.toString("utf8"), () => null);
  const stale = base !== null && removed.some((label) => base.includes(`"${label}"`));
  if (!stale && deltas.length <= DELTAS_BEFORE_FOLDING) return;
  const index = await readAccountsIndex(target);
  for (const entry of Object.values(index.accounts)) entry.sessions = entry.sessions.filter((s) => !removed.includes(s.label));
  for (const [id, entry] of Object.entries(index.accounts)) if (entry.sessions.length === 0) delete index.accounts[id];
  await target.backend.save(INDEX_FILE, Buffer.from(JSON.stringify(index)));
  for (const delta of deltas) await target.backend.remove(`${DELTA_FOLDER}/${delta.label}.json`);
}

/** Adds a published session to the accounts index: its own delta file, with each account's names. */
export async function updateAccountsIndex(target: BackupTarget, label: string, accounts: SessionAccountEntry[]): Promise<void> {
  const { rows } = await consolePool().query<{ account_id: string; email: string; valid_from: Date; valid_to: Date | null }>(
    "SELECT account_id, email, valid_from, valid_to FROM account_name WHERE account_id = ANY($1::uuid[]) ORDER BY valid_from",
    [accounts.map((a) => a.accountId)],
  );
  const names = new Map<string, AccountsIndexDelta["accounts"][string]["names"]>();
  for (const r of rows) {
    let list = names.get(r.account_id);
    if (!list) names.set(r.account_id, (list = []));
    list.push({ email: r.email, validFrom: r.valid_from.toISOString(), validTo: r.valid_to?.toISOString() ?? null });
  }
  await saveAccountsIndexDelta(target, label, accounts, names);
}

/**
 * A session's delta of the accounts index on another target (a copy): each of its accounts with
 * the names the source target's index knows, so the copy alone says who every account was.
 */
export async function copyAccountsIndexDelta(from: AccountsIndex, to: BackupTarget, label: string, accounts: SessionAccountEntry[]): Promise<void> {
  await saveAccountsIndexDelta(to, label, accounts, new Map(accounts.map((a) => [a.accountId, from.accounts[a.accountId]?.names ?? []])));
}

async function saveAccountsIndexDelta(target: BackupTarget, label: string, accounts: SessionAccountEntry[], names: Map<string, AccountsIndexDelta["accounts"][string]["names"]>): Promise<void> {
  const delta: AccountsIndexDelta = { format: SESSION_FORMAT, server: target.server, label, accounts: {} };
  for (const a of accounts) {
    const known = names.get(a.accountId);
    delta.accounts[a.accountId] = { names: known?.length ? known : [{ email: a.email, validFrom: new Date(0).toISOString(), validTo: null }], kind: a.kind };
  }
  await target.backend.save(`${DELTA_FOLDER}/${label}.json`, Buffer.from(JSON.stringify(delta)));
}
