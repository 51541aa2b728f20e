/**
 * Whole-server disaster recovery (`restore --server <name> --offline`): the server's mailstore
 * database and blob volume are gone and have been recreated empty. First the directory entries
 * the newest session recorded are brought back (accounts and their names, ids kept), then the
 * redo sequence is moved past every number the backups and the archive already used (new changes
 * must never reuse one), and then every live account is restored in place to the
 * newest change the backups and the surviving archive hold; an account created after the newest
 * full backup is rebuilt from the redo alone.
 */
import { gunzipSync } from "node:zlib";
import { targetHolding } from "../backup/server-targets.ts";
import { insertSnapshotAccounts, type DirectorySnapshot } from "../backup/target-directory.ts";
import { consolePool, prisma } from "../db/console-db.ts";
import { getServer } from "../directory/list-servers.ts";
import { InvalidInputError } from "../errors.ts";
import { OWNERLESS_LIKE } from "../mailstore/drop-mailbox.ts";
import { openMailstore } from "../mailstore/mailstore.ts";
import { setUpServerStore } from "../mailstore/setup-mailstore.ts";
import path from "node:path";
import { listSegments } from "../redo/archive-redo.ts";
import { fetchShippedRedo } from "../redo/fetch-shipped-redo.ts";
import { readSegmentHeader } from "../redo/redo-coverage.ts";
import { submitRestore } from "./submit-restore.ts";


export async function restoreServer(options: { server: string; requestedBy: string; dryRun?: boolean }) {
  const server = await getServer(options.server);
  const serverRow = await prisma().server.findUniqueOrThrow({ where: { name: server.name } });
  await setUpServerStore(server.name);
  const store = await openMailstore(server.name);
  // Drills' and views' hidden mailboxes are no account's: they do not make the store "not empty".
  const { rows: present } = await store.pool.query<{ n: number }>("SELECT count(*) AS n FROM mailstore.mailbox WHERE email NOT LIKE $1", [OWNERLESS_LIKE]);
  if (present[0]!.n > 0) {
    throw new InvalidInputError(`${server.name}'s mailstore is not empty (${present[0]!.n} mailboxes): --offline rebuilds an empty one; restore accounts with -a or a group with --group`);
  }
  const newest = await prisma().backupSession.findFirst({ where: { serverId: serverRow.id, status: "completed" }, orderBy: { createdAt: "desc" } });
  const { rows: known } = await consolePool().query<{ n: number }>("SELECT count(*)::int AS n FROM account WHERE server_id = $1", [serverRow.id]);
  // Without a session, only a directory that `repo attach` rebuilt (and redo reaching back to
  // each account's creation) can bring mailboxes back.
  if (!newest && known[0]!.n === 0) throw new InvalidInputError(`${server.name} has no completed backup to rebuild from`);

  // 1. The directory, as the newest session saw it (attach has already brought back a newer one).
  let accountsRestored = 0;
  if (newest) {
    const target = await targetHolding(server, [newest.label]);
    const snapshot = JSON.parse(gunzipSync(await target.readSessionFile(newest.label, "global/directory.json.gz")).toString()) as DirectorySnapshot;
    if (!options.dryRun) accountsRestored = (await insertSnapshotAccounts(consolePool(), snapshot.accounts, serverRow.id)).accounts;
  }

  // 2. Redo shipped off the machine after the local archive's end (a new machine: all of it
  // after the newest session), then sequence numbers past everything the backups and the
  // archive hold.
  const fetched = options.dryRun ? null : await fetchShippedRedo(server);
  // No target could be read: restoring now would silently stop at an older point.
  if (fetched?.errors.length && !fetched.target) throw new Error(`the shipped redo of ${server.name} could not be read (${fetched.errors.join("; ")}): restore once a target answers`);
  const segments = await listSegments(store.redoArchivePath);
  const newestRecord = segments.length ? await readSegmentHeader(path.join(store.redoArchivePath, segments.at(-1)!.name)) : null;
  const { rows: through } = await consolePool().query<{ max: string | null }>("SELECT max(redo_through_seq) AS max FROM backup_session WHERE server_id = $1", [serverRow.id]);
  const used = Math.max(Number(through[0]!.max ?? 0), segments.at(-1)?.lastSeq ?? 0);
  if (!options.dryRun && used > 0) {
    // Never lowered: the fetch may have moved it past numbers a target holds beyond a hole.
    await store.pool.query("SELECT setval('mailstore.redo_seq', GREATEST($1, (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM mailstore.redo_seq)))", [used]);
    await store.pool.query("UPDATE mailstore.redo_state SET last_archived_seq = GREATEST(last_archived_seq, $1)", [segments.at(-1)?.lastSeq ?? used]);
  }

  // 3. Every live account that had a mailbox, in place, to the newest change held: from its
  // full backup, or from redo alone. One that cannot be restored is listed, and put in
  // maintenance by the run. An account older than the newest full backup of every account and
  // not in it had no mailbox then, and accounts get theirs when they are created: none to restore.
  const { rows: live } = await consolePool().query<{ email: string }>(
    `WITH everyone AS (
       SELECT max(coalesce(started_at, created_at)) AS at FROM backup_session
        WHERE server_id = $1 AND status = 'completed' AND type = 'full' AND mode = 'standard' AND cardinality(requested_accounts) = 0)
     SELECT a.email FROM account a, everyone
      WHERE a.server_id = $1 AND a.deleted_at IS NULL
        AND (everyone.at IS NULL OR a.created_at >= everyone.at
             OR EXISTS (SELECT 1 FROM session_account sa JOIN backup_session s ON s.id = sa.session_id AND s.status = 'completed'
                         WHERE sa.account_id = a.id AND sa.kind = 'full'))
      ORDER BY a.email`,
    [serverRow.id],
  );
  if (live.length === 0) throw new InvalidInputError(`${server.name} has no live account to restore`);
  const restore = await submitRestore(
    { server: server.name, accounts: live.map((r) => r.email), continueOnError: true, requestedBy: options.requestedBy, dryRun: options.dryRun },
    { disaster: true },
  );
  return {
    directoryAccountsRestored: accountsRestored,
    sequenceFrom: used + 1,
    /** The newest change the restore can reach: the last sequence number held, and its record's time. */
    pointReached: { seq: used, at: newestRecord?.lastAt ?? newest?.endedAt?.toISOString() ?? null },
    shippedSegmentsFetched: fetched?.segments.length ?? 0,
    restore,
  };
}

