/**
 * Restores one account as its plan says, in one mailstore transaction: the target mailbox (in
 * place: the account's own, emptied; copy: a new account and mailbox named with the prefix),
 * the snapshot loaded with COPY FROM, the blobs it needs brought back from the backup target,
 * the redo replayed on top, and a `RestoreMailbox` record that marks the reload in the mailbox's
 * own history. The source of a copy is never touched. Directory changes commit after the
 * mailstore's, as for every account operation.
 */
import { randomUUID } from "node:crypto";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { DamagedBackupFileError } from "../backup/errors.ts";
import { gzipDamage } from "../backup/read-session-files.ts";
import { targetHolding } from "../backup/server-targets.ts";
import type { BackupTarget } from "../backup/target.ts";
import { consolePool, inConsoleTransaction } from "../db/console-db.ts";
import { insertAccount } from "../directory/accounts.ts";
import { getServerConfig } from "../directory/list-servers.ts";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { openMailstore } from "../mailstore/mailstore.ts";
import { groupSchema } from "../mailstore/schema.ts";
import type { RedoRecord } from "../redo/segment-format.ts";
import { planSessions, type AccountPlan } from "./plan-restore.ts";
import { replay, ReplayError, type ReplayMode, type ReplayState } from "./replay.ts";
import { accountRedo, carriedBytes } from "./restore-redo-source.ts";

export interface AccountRestoreResult {
  requested: string;
  accountId: string;
  target: string;
  mailboxId: number;
  snapshotItems: number;
  blobsCopied: number;
  replayed: number;
  skipped: number;
  gaps: { from: number; to: number }[];
  changeNumber: number;
  /** The redo sequence number of the account's `RestoreMailbox` record: an undo restores to just before it. */
  markerSeq: number;
  /**
   * Where the time went, in milliseconds: reading the plan's server, target and snapshot
   * description (`prepareMs`), the blobs, loading the rows, replaying, and the marker, the sync
   * of the volume and the commit (`commitMs`).
   */
  timings: { prepareMs: number; blobsMs: number; loadMs: number; replayMs: number; commitMs: number };
}

interface SnapshotDescription {
  snapshot: { changeNumber: number; lastRedoSeq: number; quotaBytes: number };
  columns: { items: string[]; tombstones: string[] };
  directory: { displayName?: string; classOfService?: string } | null;
}

/** Rewrites the first column (mailbox id) of COPY text lines. */
function withMailboxId(mailboxId: number): Transform {
  let rest = "";
  return new Transform({
    transform(chunk: Buffer, _e, done) {
      const text = rest + chunk.toString("utf8");
      const lines = text.split("\n");
      rest = lines.pop()!;
      done(null, lines.map((l) => `${mailboxId}${l.slice(l.indexOf("\t"))}\n`).join(""));
    },
    flush(done) {
      done(null, rest ? `${mailboxId}${rest.slice(rest.indexOf("\t"))}\n` : "");
    },
  });
}

/** Loads one COPY dump of the account's snapshot and says how many rows it held; a damaged file is named with its session and account. */
async function loadTable(client: pg.PoolClient, target: BackupTarget, relative: string, table: string, columns: string[], mailboxId: number, account: AccountPlan): Promise<number> {
  const label = account.snapshot!.session;
  const chunks = () => target.sessionFileChunks(label, relative);
  try {
    const copy = client.query(copyFrom(`COPY ${table} (${columns.join(", ")}) FROM STDIN`));
    await pipeline(Readable.from(chunks()), createGunzip(), withMailboxId(mailboxId), copy);
    return copy.rowCount;
  } catch (error) {
    const damage = await gzipDamage(chunks, error);
    if (!damage) throw error;
    throw new DamagedBackupFileError(label, target.describe(target.sessionObject(label, relative)), damage, `${account.emailAtPoint} (${account.accountId})`);
  }
}

/** What a snapshot would say of an account built from redo alone: its directory entry and first quota. */
async function describeFromDirectory(account: AccountPlan): Promise<SnapshotDescription> {
  const { rows } = await consolePool().query<{ display_name: string; cos: string | null }>(
    "SELECT a.display_name, c.name AS cos FROM account a LEFT JOIN class_of_service c ON c.id = a.cos_id WHERE a.id = $1",
    [account.accountId],
  );
  return {
    snapshot: { changeNumber: 0, lastRedoSeq: account.fromCreate!.seq - 1, quotaBytes: account.fromCreate!.quotaBytes },
    columns: { items: [], tombstones: [] },
    directory: rows[0] ? { displayName: rows[0].display_name, classOfService: rows[0].cos ?? undefined } : null,
  };
}

export async function restoreAccount(options: {
  server: string;
  account: AccountPlan;
  skipDeletes: boolean;
  ignoreRedoErrors: boolean;
  excludeBlobs: boolean;
  /** Rows only, no body anywhere (an explore view): not even those the redo delivers are written to the volume. */
  rowsOnly?: boolean;
  signal?: AbortSignal;
  /** The restore run, recorded in the `RestoreMailbox` record so a retry knows the work was done. */
  runLabel?: string;
  /** Batched (the default), or one record at a time: the reference the differential test compares with. */
  replayMode?: ReplayMode;
}): Promise<AccountRestoreResult> {
  const { account } = options;
  const started = performance.now();
  const server = await getServerConfig(options.server);
  const store: Mailstore = await openMailstore(server.name);
  const target = await targetHolding(server, planSessions(account), { required: true });
  // The base: a full backup's snapshot, or (built from redo alone) an empty mailbox.
  const accountDir = account.snapshot ? `accounts/${account.accountId}` : null;
  const read = (relative: string) => target.readSessionFile(account.snapshot!.session, `${accountDir}/${relative}`).then((b) => b.toString("utf8"));
  const [description, digests] = accountDir
    ? await Promise.all([read("mailbox.json").then((text) => JSON.parse(text) as SnapshotDescription), read("blobs.txt").then((text) => text.split("\n").filter(Boolean))])
    : [await describeFromDirectory(account), []];

  // A copy's new directory entry commits with its mailbox, in a console transaction held through
  // the restore; the other modes write the directory with single statements and hold none.
  const restore = async (dir: pg.PoolClient | null): Promise<AccountRestoreResult> => {
    // Directory first (a copy's inside the still-open console transaction).
    let accountId = account.accountId;
    if (account.target.mode === "scratch") {
      accountId = randomUUID(); // no directory entry: nothing lists it, and the drill removes it
    } else if (account.target.mode === "copy") {
      const created = await insertAccount(dir!, {
        email: account.target.email,
        server: server.name,
        displayName: description.directory?.displayName ?? "",
        cos: description.directory?.classOfService,
        copyOf: account.accountId,
      });
      accountId = created.id;
    } else {
      // Maintenance is visible at once (its own commit); the mailbox row lock below holds
      // deliveries back until the reload commits.
      await consolePool().query("UPDATE account SET status = 'maintenance' WHERE id = $1", [accountId]);
    }

    // Blobs back from the backup: only those the volume lacks, each pack read once and in
    // order, several packs at a time, and made durable, with those the redo brings back, by one
    // sync of the volume just before the metadata that refers to them commits. A blob the
    // backup cannot give back (damaged, missing) fails the account before anything is written
    // wrong.
    let blobsCopied = 0;
    const t0 = performance.now();
    if (!options.excludeBlobs) {
      const restored = await target.restoreBlobs(digests, store.blobs, options.signal);
      blobsCopied = restored.written;
      const { missing } = restored;
      if (missing.length) throw new Error(`${missing.length} blob(s) of ${account.snapshot?.session ?? "the backup"} are missing from the backup target (${missing.slice(0, 3).join(", ")}); run verify`);
    }

    const client = await store.pool.connect();
    try {
      await client.query("BEGIN");
      // The target mailbox: the account's own (emptied), or a new one for the copy or for a
      // deleted account whose mailbox is gone.
      const { rows: existing } = await client.query<{ id: number; group_id: number; change_number: number }>(
        "SELECT id, group_id, change_number FROM mailstore.mailbox WHERE account_id = $1 FOR UPDATE",
        [accountId],
      );
      let mailbox = existing[0];
      let previousChange = 0;
      if (mailbox) {
        previousChange = mailbox.change_number;
        await client.query(
          `WITH items AS (DELETE FROM ${groupSchema(mailbox.group_id)}.item WHERE mailbox_id = $1)
           DELETE FROM ${groupSchema(mailbox.group_id)}.tombstone WHERE mailbox_id = $1`,
          [mailbox.id],
        );
      } else {
        const { rows } = await client.query<{ id: number; group_id: number; change_number: number }>(
          `INSERT INTO mailstore.mailbox (id, account_id, group_id, email, email_at_creation, item_id_checkpoint, quota_bytes)
           SELECT id, $1, (id - 1) % $4 + 1, $2, $2, 255, $3 FROM (SELECT nextval('mailstore.mailbox_id_seq') AS id) n
           RETURNING id, group_id, change_number`,
          [accountId, account.target.email, description.snapshot.quotaBytes, store.groups],
        );
        mailbox = rows[0]!;
      }
      const items = `${groupSchema(mailbox.group_id)}.item`;
      const tombstones = `${groupSchema(mailbox.group_id)}.tombstone`;
      const t1 = performance.now();
      // The mailbox is empty here: the items loaded are its snapshot's.
      const snapshotItems = accountDir ? await loadTable(client, target, `${accountDir}/items.copy.gz`, items, description.columns.items, mailbox.id, account) : 0;
      if (accountDir) await loadTable(client, target, `${accountDir}/tombstones.copy.gz`, tombstones, description.columns.tombstones, mailbox.id, account);

      const ensureBlob = async (record: RedoRecord) => {
        if (options.rowsOnly) return;
        const digest = String(record.payload.digest);
        if (await store.blobs.has(digest)) return;
        const bytes =
          record.blob ??
          (record.payload.blobSeq ? await carriedBytes(Number(record.payload.blobSeq), account, store, target) : null) ??
          (await target.readBlob(digest).catch(() => null));
        if (!bytes) throw new ReplayError("blob_missing", `the message delivered in redo ${record.seq} (${digest}) is in no blob volume, backup or redo record`);
        await store.blobs.put(bytes, digest, { sync: false, knownAbsent: true });
        blobsCopied++;
      };
      const t2 = performance.now();
      const state: ReplayState = account.snapshot
        ? { changeNumber: account.snapshot.changeNumber, lastRedoSeq: account.snapshot.lastRedoSeq, applied: 0, skipped: 0, gaps: [] }
        : { changeNumber: 0, lastRedoSeq: account.fromCreate!.seq - 1, applied: 0, skipped: 0, gaps: [] };
      await replay({ client, mailboxId: mailbox.id, items, tombstones, ensureBlob }, accountRedo(account, store, target), state, { ...options, mode: options.replayMode });
      const t3 = performance.now();

      // The reload is itself a change of the mailbox: one record that later replays stop at.
      const changeNumber = Math.max(previousChange, state.changeNumber) + 1;
      // Its record and the mailbox row's new state, in one statement.
      const { rows: seqRows } = await client.query<{ seq: number }>(
        `WITH marker AS (
           INSERT INTO mailstore.redo_log (seq, mailbox_id, account_id, change_number, op, payload)
           VALUES (nextval('mailstore.redo_seq'), $1, $2, $3, 'RestoreMailbox', $4) RETURNING seq
         )
         UPDATE mailstore.mailbox SET email = $5, change_number = $3, last_redo_seq = (SELECT seq FROM marker),
                item_id_checkpoint = GREATEST(255, (SELECT coalesce(max(id), 0) FROM ${items} WHERE mailbox_id = $1)),
                size_bytes = (SELECT coalesce(sum(size), 0) FROM ${items} WHERE mailbox_id = $1 AND type = 'message')
          WHERE id = $1
          RETURNING last_redo_seq AS seq`,
        [mailbox.id, accountId, changeNumber, {
          run: options.runLabel ?? null,
          fromSession: account.snapshot?.session ?? null,
          fromCreateSeq: account.fromCreate?.seq ?? null,
          skipDeletes: options.skipDeletes,
          sourceAccountId: account.accountId,
          restoredChangeNumber: state.changeNumber,
          throughSeq: state.lastRedoSeq,
          point: account.redo,
          replayed: state.applied,
          skipped: state.skipped,
          gaps: state.gaps,
        }, account.target.email],
      );
      if (options.signal?.aborted) throw new Error("restore aborted");
      if (blobsCopied) await store.blobs.syncVolume();
      await client.query("COMMIT");
      if (account.target.mode === "in-place") await consolePool().query("UPDATE account SET status = 'active', status_reason = NULL, deleted_at = NULL WHERE id = $1", [accountId]);
      const t4 = performance.now();
      return {
        requested: account.requested,
        accountId,
        target: account.target.email,
        mailboxId: mailbox.id,
        snapshotItems,
        blobsCopied,
        replayed: state.applied,
        skipped: state.skipped,
        gaps: state.gaps,
        changeNumber,
        markerSeq: seqRows[0]!.seq,
        timings: { prepareMs: Math.round(t0 - started), blobsMs: Math.round(t1 - t0), loadMs: Math.round(t2 - t1), replayMs: Math.round(t3 - t2), commitMs: Math.round(t4 - t3) },
      };
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      if (account.target.mode === "in-place") await consolePool().query("UPDATE account SET status = 'active' WHERE id = $1 AND deleted_at IS NULL", [accountId]).catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  };
  return account.target.mode === "copy" ? inConsoleTransaction(restore) : restore(null);
}
