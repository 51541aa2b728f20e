/**
 * `repo attach <target>`: a fresh installation takes over a server from its backup target alone,
 * as Zimbra's zmrestoreldap brings the directory back before zmrestoreoffline. From the target:
 *   1. which server it belongs to (target.json), opened with this process's passphrase;
 *   2. the lease: refused while another live installation holds it, unless `takeover`;
 *   3. the directory (target-directory.ts: the root copy redo shipping keeps, or the newest
 *      session's): the server's entry and settings, its accounts with every name, the classes
 *      of service and domains; the schedule is printed as the commands that put it back, to run
 *      once the mailboxes are restored (applied at once, a backup of the still empty mailstore
 *      or a retention run could come first);
 *      The attached target becomes the server's primary; a copy target naming it is dropped.
 *   4. an empty mailstore and folders on this machine, named as this installation names them;
 *   5. the catalog of sessions (rescan);
 *   6. the shipped redo after the newest session, into the local archive (fetch-shipped-redo.ts),
 *      and from it the directory changes after the directory copy: accounts created, renamed or
 *      deleted since.
 * Nothing of the target's data is written: only the lease. Then `restore --server <name>
 * --offline` rebuilds the mailboxes to the newest shipped record.
 */
import path from "node:path";
import { config, databaseName } from "../config.ts";
import { consolePool, inConsoleTransaction } from "../db/console-db.ts";
import { recordDeletion, recordRename } from "../directory/accounts.ts";
import { getServer } from "../directory/list-servers.ts";
import { placeOf } from "../directory/copy-targets.ts";
import { parseServerSettings } from "../directory/server-settings.ts";
import { InvalidInputError, MailvaultError } from "../errors.ts";
import { openMailstore } from "../mailstore/mailstore.ts";
import { setUpServerStore } from "../mailstore/setup-mailstore.ts";
import { fetchShippedRedo } from "../redo/fetch-shipped-redo.ts";
import { ENTRY_CODES, type ScheduleEntry } from "../schedule/schedule-entry.ts";
import { readRedo } from "../redo/read-redo.ts";
import { isObjectStore } from "./free-space.ts";
import { rescanCatalog } from "./rescan-catalog.ts";
import { insertSnapshotAccounts, readTargetDirectory, type DirectorySnapshot } from "./target-directory.ts";
import { takeLease } from "./target-lease.ts";
import { BackupTarget, backendFor } from "./target.ts";

export interface AttachResult {
  server: string;
  directoryFrom: string;
  directoryTakenAt: string;
  accounts: number;
  formerNames: number;
  /**
   * The schedule the server had, as `schedulebackup` commands. Not applied: a backup or a
   * retention run before `restore --offline` would back up the empty mailstore (and make the
   * accounts it lacks look like they had no mailbox) or delete sessions the restore needs.
   */
  schedule: string[];
  /** Accounts created, renamed or deleted after the directory copy, taken from the redo. */
  fromRedo: { created: number; renamed: number; deleted: number };
  sessions: number;
  redo: { segments: number; throughSeq: number; throughAt: string | null; from: string | null };
  mailstoreDatabase: string;
}

async function targetServer(url: string): Promise<string> {
  const bytes = await backendFor(url)
    .read("target.json")
    .catch((error: Error & { code?: string }) => {
      if (error.code === "object_not_found") throw new InvalidInputError(`${url.replace(/\?.*$/, "")} is not a Mailvault backup target (it has no target.json)`);
      throw error;
    });
  return (JSON.parse(bytes.toString("utf8")) as { server: string }).server;
}

export async function attachTarget(input: { url: string; server?: string; takeover?: boolean }): Promise<AttachResult> {
  const url = input.url.trim();
  if (!url.startsWith("/") && !isObjectStore(url)) throw new InvalidInputError("a target is an absolute folder path or an s3://bucket/prefix URL");
  const name = await targetServer(url);
  if (input.server && input.server !== name) throw new InvalidInputError(`${url.replace(/\?.*$/, "")} holds the backups of ${name}, not ${input.server}`);
  const known = await consolePool().query("SELECT 1 FROM server WHERE name = $1", [name]);
  if (known.rowCount) {
    throw new MailvaultError("conflict", "server_exists", `${name} is already in this console's directory: attach is for a new installation; catalog --rescan -s ${name} rebuilds its catalog`);
  }
  const target = new BackupTarget(url, name);
  await takeLease(target, { takeover: input.takeover });
  const found = await readTargetDirectory(target);
  if (!found) throw new InvalidInputError(`${target.backend.location} holds no directory of ${name}: it has neither a published session nor shipped redo`);
  const { snapshot } = found;

  const mailstoreDatabase = `${databaseName(config().DATABASE_URL)}_${name}`;
  const folder = path.join(config().MAILVAULT_DATA_DIR, "servers", name);
  const { formerNames } = await insertDirectory(snapshot, {
    name,
    url,
    mailstoreDatabase,
    blobVolumePath: path.join(folder, "blobs"),
    redoArchivePath: path.join(folder, "redo-archive"),
  });
  await setUpServerStore(name);
  const catalog = await rescanCatalog(name);
  const server = await getServer(name);
  const fetched = await fetchShippedRedo(server);
  if (fetched.errors.length && !fetched.target) throw new Error(`the shipped redo of ${name} could not be read: ${fetched.errors.join("; ")}`);
  const fromRedo = await applyDirectoryChanges(name, new Date(snapshot.takenAt));
  return {
    server: name,
    directoryFrom: found.from,
    directoryTakenAt: snapshot.takenAt,
    accounts: snapshot.accounts.length + fromRedo.created,
    formerNames,
    fromRedo,
    sessions: catalog.sessions,
    redo: { segments: fetched.segments.length, throughSeq: fetched.throughSeq, throughAt: fetched.throughAt, from: fetched.target },
    mailstoreDatabase,
    schedule: scheduleCommands(name, snapshot.schedule?.entries),
  };
}

/** A recorded schedule as the commands that put it back (one per time zone). */
function scheduleCommands(server: string, entries: unknown): string[] {
  const list = Array.isArray(entries) ? (entries as ScheduleEntry[]) : [];
  const zones = [...new Set(list.map((e) => e.tz))];
  return zones.map((tz) => {
    const words = list
      .filter((e) => e.tz === tz)
      .map((e) => [ENTRY_CODES[e.type], e.age ?? e.to ?? e.scope, `"${e.pattern}"`].filter(Boolean).join(" "));
    return `./bin/mailvault schedulebackup -s ${server} ${zones.length > 1 || tz !== "UTC" ? `--tz ${tz} ` : ""}-${zones.indexOf(tz) === 0 ? "R" : "A"} ${words.join(" ")}`;
  });
}

async function insertDirectory(
  snapshot: DirectorySnapshot,
  place: { name: string; url: string; mailstoreDatabase: string; blobVolumePath: string; redoArchivePath: string },
): Promise<{ formerNames: number }> {
  const recorded = parseServerSettings(snapshot.server.settings);
  // The attached target is the primary now: a copy target naming the same place is dropped (the
  // old primary went with the machine; add it back with `targets add` if it survived).
  const settings = { ...recorded, copyTargets: recorded.copyTargets.filter((t) => placeOf(t.url) !== placeOf(place.url)) };
  return inConsoleTransaction(async (db) => {
    for (const d of snapshot.domains) await db.query("INSERT INTO domain (name) VALUES ($1) ON CONFLICT DO NOTHING", [d.name]);
    // Domains of accounts the snapshot lists but its domain list lacks (older sessions).
    for (const a of snapshot.accounts) await db.query("INSERT INTO domain (name) VALUES (split_part($1, '@', 2)) ON CONFLICT DO NOTHING", [a.email]);
    for (const c of snapshot.classesOfService) {
      await db.query("INSERT INTO class_of_service (name, description, quota_bytes) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", [c.name, c.description, c.quota_bytes]);
    }
    const { rows } = await db.query<{ id: number }>(
      `INSERT INTO server (name, hostname, mailstore_database, blob_volume_path, redo_archive_path, backup_target, backup_mode, settings)
       VALUES ($1, $2, $3, $4, $5, $6, $7::backup_mode, $8::jsonb) RETURNING id`,
      [place.name, snapshot.server.hostname, place.mailstoreDatabase, place.blobVolumePath, place.redoArchivePath, place.url, snapshot.server.backup_mode, JSON.stringify(settings)],
    );
    const serverId = rows[0]!.id;
    const { formerNames } = await insertSnapshotAccounts(db, snapshot.accounts, serverId);
    return { formerNames };
  });
}

/**
 * The directory changes the redo holds after the directory copy was taken (a minute of slack for
 * clocks): accounts created (their mailbox's creation names them), renamed and deleted. Applied
 * only where the directory does not show them yet, so reading a record twice changes nothing.
 */
async function applyDirectoryChanges(serverName: string, since: Date): Promise<{ created: number; renamed: number; deleted: number }> {
  const store = await openMailstore(serverName);
  const counts = { created: 0, renamed: 0, deleted: 0 };
  const records = readRedo(store, { ops: ["CreateMailbox", "RenameAccount", "DeleteMailbox"], fromTime: new Date(since.getTime() - 60_000) });
  for await (const record of records) {
    const p = record.payload as { email?: string; oldEmail?: string; newEmail?: string; at?: string };
    const at = new Date(p.at ?? record.at);
    await inConsoleTransaction(async (db) => {
      const { rows } = await db.query<{ email: string; deleted_at: Date | null }>("SELECT email, deleted_at FROM account WHERE id = $1", [record.accountId]);
      const account = rows[0];
      if (record.op === "CreateMailbox" && !account && p.email) {
        await db.query("INSERT INTO domain (name) VALUES (split_part($1, '@', 2)) ON CONFLICT DO NOTHING", [p.email]);
        await db.query(
          `INSERT INTO account (id, email, display_name, domain_id, server_id, cos_id, created_at)
           SELECT $1, $2, '', d.id, v.id, c.id, $4 FROM domain d, server v, class_of_service c
            WHERE d.name = split_part($2, '@', 2) AND v.name = $3 AND c.name = 'default'`,
          [record.accountId, p.email, serverName, at],
        );
        await db.query("INSERT INTO account_name (account_id, email, valid_from) VALUES ($1, $2, $3)", [record.accountId, p.email, at]);
        counts.created++;
      } else if (record.op === "RenameAccount" && account && p.newEmail && account.email === p.oldEmail) {
        await recordRename(db, record.accountId, p.newEmail, at);
        counts.renamed++;
      } else if (record.op === "DeleteMailbox" && account && !account.deleted_at) {
        await recordDeletion(db, record.accountId, at);
        counts.deleted++;
      }
    });
  }
  return counts;
}
