/**
 * The directory as a target keeps it, so that a fresh install can be rebuilt from the target
 * alone (`repo attach`, attach-target.ts): the server's entry and settings, its accounts with
 * every name they had, the classes of service and domains they use, and the schedules. Each
 * session holds one (`global/directory.json.gz`, as it was then); redo shipping keeps a newer
 * one at the target's root (`directory.json.gz`), saved whenever it changed. What changed after
 * that (accounts created, renamed, deleted) is in the shipped redo, which attach reads too.
 */
import { createHash } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import type pg from "pg";
import { consolePool } from "../db/console-db.ts";
import { ObjectNotFoundError } from "../repository/backend.ts";
import type { BackupTarget } from "./target.ts";

export const DIRECTORY_OBJECT = "directory.json.gz";

export interface DirectorySnapshot {
  takenAt: string;
  domains: { name: string }[];
  classesOfService: { name: string; description: string; quota_bytes: string }[];
  server: { name: string; hostname: string; mailstore_database: string; blob_volume_path: string; redo_archive_path: string; backup_target: string; backup_mode: string; settings: unknown };
  accounts: { id: string; email: string; display_name: string; status: string; cos: string; created_at: string; deleted_at: string | null; names: { email: string; validFrom: string; validTo: string | null }[] | null }[];
  /** The server's schedule entries (absent in sessions written before redo shipping). */
  schedule?: { entries: unknown; updatedBy: string } | null;
}

export async function directorySnapshot(serverId: number): Promise<DirectorySnapshot> {
  const pool = consolePool();
  const [domains, classes, server, accounts, schedule] = await Promise.all([
    pool.query("SELECT name FROM domain ORDER BY name"),
    pool.query("SELECT name, description, quota_bytes::text FROM class_of_service ORDER BY name"),
    pool.query("SELECT name, hostname, mailstore_database, blob_volume_path, redo_archive_path, backup_target, backup_mode, settings FROM server WHERE id = $1", [serverId]),
    pool.query(
      `SELECT a.id, a.email, a.display_name, a.status, c.name AS cos, a.created_at, a.deleted_at,
              (SELECT json_agg(json_build_object('email', n.email, 'validFrom', n.valid_from, 'validTo', n.valid_to) ORDER BY n.valid_from)
                 FROM account_name n WHERE n.account_id = a.id) AS names
         FROM account a JOIN class_of_service c ON c.id = a.cos_id WHERE a.server_id = $1 ORDER BY a.email`,
      [serverId],
    ),
    pool.query("SELECT entries, updated_by AS \"updatedBy\" FROM backup_schedule s JOIN server v ON v.name = s.server WHERE v.id = $1", [serverId]),
  ]);
  return { takenAt: new Date().toISOString(), domains: domains.rows, classesOfService: classes.rows, server: server.rows[0], accounts: accounts.rows, schedule: schedule.rows[0] ?? null };
}

/** What was last saved per target in this process (the snapshot's hash without its time). */
const saved = new Map<string, string>();

/** Saves the server's directory at the target's root when it differs from what this process saved there last. */
export async function shipDirectory(serverId: number, target: BackupTarget): Promise<boolean> {
  const snapshot = await directorySnapshot(serverId);
  const hash = createHash("sha256").update(JSON.stringify({ ...snapshot, takenAt: null })).digest("hex");
  if (saved.get(target.root) === hash) return false;
  await target.backend.save(DIRECTORY_OBJECT, gzipSync(Buffer.from(JSON.stringify(snapshot))));
  saved.set(target.root, hash);
  return true;
}

/** The newest directory the target holds: its root copy, or the newest published session's; null when it has none. */
export async function readTargetDirectory(target: BackupTarget): Promise<{ snapshot: DirectorySnapshot; from: string } | null> {
  const candidates: { snapshot: DirectorySnapshot; from: string }[] = [];
  const root = await target.backend.read(DIRECTORY_OBJECT).catch((error: unknown) => (error instanceof ObjectNotFoundError ? null : Promise.reject(error)));
  if (root) candidates.push({ snapshot: JSON.parse(gunzipSync(root).toString()) as DirectorySnapshot, from: DIRECTORY_OBJECT });
  const labels = await target.publishedLabels();
  const newest = labels.sort((a, b) => a.slice(a.indexOf("-") + 1).localeCompare(b.slice(b.indexOf("-") + 1))).at(-1);
  if (newest) {
    const bytes = await target.readSessionFile(newest, "global/directory.json.gz").catch(() => null);
    if (bytes) candidates.push({ snapshot: JSON.parse(gunzipSync(bytes).toString()) as DirectorySnapshot, from: `session ${newest}` });
  }
  return candidates.sort((a, b) => a.snapshot.takenAt.localeCompare(b.snapshot.takenAt)).at(-1) ?? null;
}

/**
 * Puts a snapshot's accounts (ids kept) and every name each had into the directory, in two
 * statements; accounts the directory already has are left as they are, names included. Returns
 * how many accounts went in and how many former names they brought.
 */
export async function insertSnapshotAccounts(db: Pick<pg.PoolClient, "query">, accounts: DirectorySnapshot["accounts"], serverId: number): Promise<{ accounts: number; formerNames: number }> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO account (id, email, display_name, status, domain_id, server_id, cos_id, created_at, deleted_at)
     SELECT a.id, a.email, a.display_name, a.status, d.id, $2, c.id, a.created_at, a.deleted_at
       FROM jsonb_to_recordset($1::jsonb) AS a(id uuid, email text, display_name text, status account_status, cos text, created_at timestamptz, deleted_at timestamptz)
       JOIN domain d ON d.name = split_part(a.email, '@', 2)
       JOIN class_of_service c ON c.name = a.cos
     ON CONFLICT DO NOTHING RETURNING id`,
    [JSON.stringify(accounts), serverId],
  );
  const added = new Set(rows.map((r) => r.id));
  const names = accounts.filter((a) => added.has(a.id)).flatMap((a) => (a.names ?? []).map((n) => ({ account_id: a.id, ...n })));
  await db.query(
    `INSERT INTO account_name (account_id, email, valid_from, valid_to)
     SELECT n.account_id, n.email, n."validFrom", n."validTo" FROM jsonb_to_recordset($1::jsonb) AS n(account_id uuid, email text, "validFrom" timestamptz, "validTo" timestamptz)`,
    [JSON.stringify(names)],
  );
  return { accounts: added.size, formerNames: names.filter((n) => n.validTo).length };
}
