/**
 * An account that has not changed since the last full that holds it keeps that full's dumps.
 *
 * A full's cost for an unchanged account used to be two COPYs through gzip (about 10 ms on this
 * VM) for bytes the target already holds, and then a copy of them. Account files are now shared
 * objects named by their sha256 (`dumps/ab/<sha256>`, target.ts), so the new session's manifest
 * simply names the objects the earlier one named: no COPY, no read, no write. Its blob list and
 * mailbox.json are written only when their bytes differ from the earlier session's (the same
 * check: `known`). Each session's manifest still names every file it needs, so retention, delete,
 * verify, copies and restores see an ordinary session, and deleting the earlier session takes
 * nothing from this one: a shared object goes only when no published manifest names it.
 *
 * "Unchanged" is decided inside the new snapshot's transaction, on three facts that must all
 * match what the earlier session.json recorded for the account:
 *   - the mailbox's change number and last redo sequence number (every change, restores
 *     included, moves both);
 *   - a fingerprint of the rows themselves (`fingerprintSql`): the sum of a 64-bit hash of each
 *     item row's dumped columns (by value), and of each tombstone's. It catches what bypasses the change
 *     numbers (a row edited by hand, a mailbox rebuilt around a hole in its redo).
 * and the earlier session must be published, with a manifest that matches its commit object and
 * the same dump format (`DUMP_FORMAT`: the columns, in order), and not found damaged by its last
 * verify. A dump the earlier session held in its own folder (sessions before shared account
 * files, or one streamed there) is read back, checked against the manifest and saved as a shared
 * object once. Anything else, or any failure to find or check an earlier file, and the account
 * is dumped as before.
 *
 * Naming is not reading: a shared object damaged after it was saved is named by each new full
 * until verify finds it, as a damaged blob in a pack is. The full after that dumps the accounts
 * of the damaged session again, and saving their files mends the object.
 */
import { createHash } from "node:crypto";
import { consolePool } from "../db/console-db.ts";
import type { MailboxRow } from "../mailstore/items.ts";
import type { SessionAccountEntry, SessionDescription } from "./session-files.ts";
import { isAccountFileObject, type BackupTarget, type FileEntry } from "./target.ts";

export const ITEM_COLUMNS = [
  "mailbox_id", "id", "type", "parent_id", "folder_id", "date", "size", "blob_digest", "flags", "tags", "sender", "subject", "name", "metadata", "change_number",
] as const;
export const TOMBSTONE_COLUMNS = ["mailbox_id", "item_id", "type", "change_number", "deleted_at"] as const;

/** What a session's account dumps hold; dumps are reused only between sessions that agree on it. */
export const DUMP_FORMAT = `items.copy.gz(${ITEM_COLUMNS.join(",")}) tombstones.copy.gz(${TOMBSTONE_COLUMNS.join(",")}) text gzip`;

export const DUMP_FILES = ["items.copy.gz", "tombstones.copy.gz"] as const;

/** Dumps an earlier session holds in its own folder larger than this are dumped again rather than held in memory to be shared. */
const COPY_LIMIT = 16 << 20;

/**
 * The fingerprint of each mailbox's rows, as an aggregate over the dumped columns: the sum of each
 * row's 64-bit hash by value (`hash_record_extended`, each column's own hash function; a third of
 * the cost of hashing the row's text form, which was most of an unchanged full's database time).
 * The DateStyle and TimeZone the COPY writes with are part of it, so a change of them makes
 * fingerprints differ (a dump, never a wrong reuse). What hashing by value cannot see is an edit
 * of representation alone, made by hand behind the change numbers: a jsonb number's trailing
 * zeros, an array's bounds.
 */
export function fingerprintSql(columns: readonly string[]): string {
  return `(sum(hash_record_extended(ROW(${columns.join(", ")}), 0))::text || ' ' || current_setting('DateStyle') || ' ' || current_setting('TimeZone'))`;
}

interface EarlierSession {
  label: string;
  files: Map<string, FileEntry>;
  accounts: Map<string, SessionAccountEntry>;
  /** A metadata-only session (backup --exclude-blobs): its blob lists name bodies it does not hold. */
  excludeBlobs: boolean;
}

/** An unchanged account's blob list, lent by the last full that holds it, with its counts. */
export interface BlobList {
  entry: FileEntry;
  count: number;
  bytes: number;
}

/**
 * Published sessions read back, per manifest as the target gives it: the target checks the
 * session's commit object once per session target (BackupTarget.sessionManifest), so a session
 * removed since (the catalog may still name it) is found gone rather than lent from a cache.
 */
const sessions = new WeakMap<Map<string, FileEntry>, Promise<EarlierSession | null>>();

function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

async function readEarlierSession(target: BackupTarget, label: string, files: Map<string, FileEntry>): Promise<EarlierSession | null> {
  const entry = files.get("session.json");
  const descriptionBytes = entry && (await target.readSessionFile(label, "session.json"));
  if (!entry || !descriptionBytes || sha256(descriptionBytes) !== entry.sha256) return null;
  const description = JSON.parse(descriptionBytes.toString("utf8")) as SessionDescription;
  if (description.status !== "completed" || description.dumps !== DUMP_FORMAT) return null;
  const accounts = new Map(description.accounts.filter((a) => a.kind === "full").map((a) => [a.accountId, a]));
  return { label, files, accounts, excludeBlobs: description.excludeBlobs === true };
}

async function earlierSession(target: BackupTarget, label: string): Promise<EarlierSession | null> {
  const files = await target.sessionManifest(label).catch(() => null);
  if (!files) return null;
  let found = sessions.get(files);
  if (!found) {
    found = readEarlierSession(target, label, files).catch(() => null);
    sessions.set(files, found);
  }
  return found;
}

export interface EarlierDumps {
  /**
   * The account's dumps as the last full that holds it has them, as manifest entries of shared
   * account files, when the mailbox (as the snapshot sees it) is unchanged since then; null when
   * it must be dumped. With them its blob list, when that session holds every blob on it (it
   * stored bodies, none was missing from the volume, and the list is a shared object): the
   * account's digests need not be read at all.
   */
  reuse(mailbox: MailboxRow, fingerprint: string): Promise<{ from: string; files: FileEntry[]; blobList?: BlobList } | null>;
  /** The entry the last full that holds the account has for its file `relative` (`accounts/<id>/blobs.txt`), if any. */
  known(accountId: string, relative: string): Promise<FileEntry | undefined>;
}

/** For a batch of accounts: the newest completed full of each on this server. */
export async function earlierDumps(target: BackupTarget, serverId: number, accountIds: string[]): Promise<EarlierDumps> {
  const { rows } = await consolePool().query<{ account_id: string; label: string; verify_ok: boolean | null }>(
    `SELECT DISTINCT ON (a.account_id) a.account_id, s.label, s.verify_ok
       FROM session_account a JOIN backup_session s ON s.id = a.session_id
      WHERE s.server_id = $1 AND s.status = 'completed' AND a.kind = 'full' AND a.account_id = ANY($2::uuid[])
      ORDER BY a.account_id, s.ended_at DESC`,
    [serverId, accountIds],
  );
  // A full that verify found damaged lends nothing: its accounts are dumped again, and saving
  // their files mends the shared objects they name (writeAccountFile rewrites one that differs).
  const labels = new Map(rows.filter((r) => r.verify_ok !== false).map((r) => [r.account_id, r.label]));
  const earlierOf = async (accountId: string) => {
    const from = labels.get(accountId);
    return from ? earlierSession(target, from) : null;
  };
  return {
    async known(accountId, relative) {
      return (await earlierOf(accountId))?.files.get(relative);
    },
    async reuse(mailbox, fingerprint) {
      const earlier = await earlierOf(mailbox.account_id);
      const recorded = earlier && earlier.accounts.get(mailbox.account_id);
      if (!earlier || !recorded || recorded.fingerprint !== fingerprint) return null;
      if (Number(recorded.changeNumber) !== Number(mailbox.change_number) || Number(recorded.lastRedoSeq) !== Number(mailbox.last_redo_seq)) return null;
      const files: FileEntry[] = [];
      for (const name of DUMP_FILES) {
        const relative = `accounts/${mailbox.account_id}/${name}`;
        const entry = earlier.files.get(relative);
        if (!entry) return null;
        // A shared object a published manifest names is there (writeAccountFile says why).
        if (isAccountFileObject(entry.object)) {
          files.push(entry);
          continue;
        }
        // Held in the earlier session's own folder: read back, checked, and shared from now on.
        if (entry.size > COPY_LIMIT) return null;
        const bytes = await target.readSessionFile(earlier.label, relative).catch(() => null);
        if (!bytes || bytes.length !== entry.size || sha256(bytes) !== entry.sha256) return null;
        files.push(await target.writeAccountFile(relative, bytes));
      }
      const list = earlier.files.get(`accounts/${mailbox.account_id}/blobs.txt`);
      const lends = !earlier.excludeBlobs && recorded.missingBlobs === 0 && recorded.blobs !== undefined && recorded.blobBytes !== undefined && list !== undefined && isAccountFileObject(list.object);
      return { from: earlier.label, files, ...(lends ? { blobList: { entry: list, count: recorded.blobs!, bytes: recorded.blobBytes! } } : {}) };
    },
  };
}
