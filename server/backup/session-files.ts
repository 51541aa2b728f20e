/**
 * The self-describing files of a session and of the target: session.json (what the session is
 * and holds), manifest.json (every file with its sha256 and size; manifest.sha256 checks the
 * manifest itself), and the target's accounts-index.json (every account, every name it had, the
 * sessions that hold it), from which alone the catalog can be rebuilt.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
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
  snapshotAt?: string;
  items?: number;
  messages?: number;
  blobs?: number;
  blobBytes?: number;
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
  redo: { fromSeq: number | null; throughSeq: number; segments: string[] } | null;
  accounts: SessionAccountEntry[];
  counts: {
    accounts: number;
    fulls: number;
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
}

export async function writeSessionDescription(ctx: SessionContext, update: Partial<SessionDescription>, files?: FileEntry[]): Promise<void> {
  const s = ctx.session;
  const file = path.join(ctx.dir, "session.json");
  const previous = await readFile(file, "utf8").then((t) => JSON.parse(t) as SessionDescription, () => null);
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
    ...previous,
    ...update,
  };
  if (description.status !== "running" && !description.endedAt) description.endedAt = new Date().toISOString();
  const entry = await ctx.target.writeSessionFile(ctx.dir, "session.json", Buffer.from(JSON.stringify(description, null, 2)));
  if (files) {
    const manifest = Buffer.from(JSON.stringify({ format: SESSION_FORMAT, label: s.label, files: [...files, entry].sort((a, b) => a.path.localeCompare(b.path)) }, null, 2));
    const written = await ctx.target.writeSessionFile(ctx.dir, "manifest.json", manifest);
    await ctx.target.writeSessionFile(ctx.dir, "manifest.sha256", Buffer.from(`${written.sha256}  manifest.json\n`));
  }
}

export interface AccountsIndex {
  format: number;
  server: string;
  accounts: Record<string, { names: { email: string; validFrom: string; validTo: string | null }[]; sessions: { label: string; kind: "full" | "redo" }[] }>;
}

export async function readAccountsIndex(target: BackupTarget): Promise<AccountsIndex> {
  const text = await readFile(path.join(target.root, "accounts-index.json"), "utf8").catch(() => null);
  return text ? (JSON.parse(text) as AccountsIndex) : { format: SESSION_FORMAT, server: target.server, accounts: {} };
}

export async function writeAccountsIndex(target: BackupTarget, index: AccountsIndex): Promise<void> {
  await target.writeAtomic(path.join(target.root, "accounts-index.json"), Buffer.from(JSON.stringify(index)));
}

/** Adds a published session to the accounts index, refreshing each account's names. */
export async function updateAccountsIndex(target: BackupTarget, label: string, accounts: SessionAccountEntry[]): Promise<void> {
  const index = await readAccountsIndex(target);
  const { rows } = await consolePool().query<{ account_id: string; email: string; valid_from: Date; valid_to: Date | null }>(
    "SELECT account_id, email, valid_from, valid_to FROM account_name WHERE account_id = ANY($1::uuid[]) ORDER BY valid_from",
    [accounts.map((a) => a.accountId)],
  );
  for (const a of accounts) {
    const entry = (index.accounts[a.accountId] ??= { names: [], sessions: [] });
    const names = rows.filter((r) => r.account_id === a.accountId).map((r) => ({ email: r.email, validFrom: r.valid_from.toISOString(), validTo: r.valid_to?.toISOString() ?? null }));
    if (names.length) entry.names = names;
    else if (!entry.names.some((n) => n.email === a.email)) entry.names.push({ email: a.email, validFrom: new Date(0).toISOString(), validTo: null });
    if (!entry.sessions.some((s) => s.label === label)) entry.sessions.push({ label, kind: a.kind });
  }
  await writeAccountsIndex(target, index);
}
