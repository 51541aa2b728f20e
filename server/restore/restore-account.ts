/**
 * Restores one account as its plan says, in one mailstore transaction: the target mailbox (in
 * place: the account's own, emptied; copy: a new account and mailbox named with the prefix),
 * the snapshot loaded with COPY FROM, the blobs it needs brought back from the backup target,
 * the redo replayed on top, and a `RestoreMailbox` record that marks the reload in the mailbox's
 * own history. The source of a copy is never touched. Directory changes commit after the
 * mailstore's, as for every account operation.
 */
import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
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
import { replay, ReplayError, type ReplayMode, type ReplayState, type SnapshotFold } from "./replay.ts";
import { accountRedo, carriedBytes, readLoggedRedo } from "./restore-redo-source.ts";
import { snapshotRows, type FoldStats } from "./snapshot-rows.ts";

export interface AccountRestoreResult {
  requested: string;
  accountId: string;
  target: string;
  mailboxId: number;
  snapshotItems: number;
  /** Rows of the snapshot loaded with the first run of redo already applied: changed, or left out as deleted. */
  foldedRows: number;
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
  /** Restored in a batch: how many accounts its transaction restored (absent when restored alone). */
  batch?: number;
}

interface SnapshotDescription {
  snapshot: { changeNumber: number; lastRedoSeq: number; quotaBytes: number };
  columns: { items: string[]; tombstones: string[] };
  directory: { displayName?: string; classOfService?: string } | null;
}

/**
 * Loads one COPY dump of the account's snapshot (with the first run of redo folded in, for the
 * items) and says how many rows went in; a damaged file is named with its session and account.
 */
async function loadTable(
  client: pg.PoolClient,
  target: BackupTarget,
  relative: string,
  table: string,
  columns: string[],
  mailboxId: number,
  account: AccountPlan,
  fold: SnapshotFold | null = null,
  stats?: FoldStats,
): Promise<number> {
  const label = account.snapshot!.session;
  const chunks = () => target.sessionFileChunks(label, relative);
  try {
    const copy = client.query(copyFrom(`COPY ${table} (${columns.join(", ")}) FROM STDIN`));
    await pipeline(Readable.from(chunks()), createGunzip(), snapshotRows(mailboxId, columns, fold, stats), copy);
    return copy.rowCount;
  } catch (error) {
    const damage = await gzipDamage(chunks, error);
    if (!damage) throw error;
    throw new DamagedBackupFileError(label, await target.describeSessionFile(label, relative), damage, `${account.emailAtPoint} (${account.accountId})`);
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

export interface RestoreOptions {
  server: string;
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
}

/** An account's base read from its snapshot (or the directory, built from redo alone), before anything is written. */
interface PreparedAccount {
  account: AccountPlan;
  description: SnapshotDescription;
  digests: string[];
  /** The snapshot's folder in its session; null when built from redo alone. */
  accountDir: string | null;
}

async function prepareAccount(target: BackupTarget, account: AccountPlan): Promise<PreparedAccount> {
  if (!account.snapshot) return { account, description: await describeFromDirectory(account), digests: [], accountDir: null };
  const accountDir = `accounts/${account.accountId}`;
  const read = (relative: string) => target.readSessionFile(account.snapshot!.session, `${accountDir}/${relative}`).then((b) => b.toString("utf8"));
  const [description, digests] = await Promise.all([read("mailbox.json").then((text) => JSON.parse(text) as SnapshotDescription), read("blobs.txt").then((text) => text.split("\n").filter(Boolean))]);
  return { account, description, digests, accountDir };
}

/** Brings back the blobs the volume lacks; a blob the backup cannot give back fails the restore before anything is written wrong. */
async function restoreSnapshotBlobs(target: BackupTarget, store: Mailstore, digests: string[], sessions: string, signal?: AbortSignal): Promise<number> {
  const { written, missing } = await target.restoreBlobs(digests, store.blobs, signal);
  if (missing.length) throw new Error(`${missing.length} blob(s) of ${sessions} are missing from the backup target (${missing.slice(0, 3).join(", ")}); run verify`);
  return written;
}

type ReloadedMailbox = Omit<AccountRestoreResult, "requested" | "accountId" | "target" | "timings"> & { loadMs: number; replayMs: number };

/**
 * Inside the caller's open mailstore transaction: the target mailbox locked and emptied (or
 * created), the snapshot's rows loaded, the redo replayed on top (with the bodies it delivers
 * that the volume lacks, written unsynced), and the `RestoreMailbox` marker with the mailbox
 * row's new state. The caller syncs the volume and commits.
 */
async function reloadMailbox(
  client: pg.PoolClient,
  store: Mailstore,
  target: BackupTarget,
  prepared: PreparedAccount,
  accountId: string,
  options: RestoreOptions,
  /**
   * In a batch: the account's records of the archive and current log, read for the whole batch
   * (`readLoggedRedo`), and the accounts whose mailboxes were locked before that read.
   */
  logged?: { records: RedoRecord[] | undefined; locked: Set<string> },
): Promise<ReloadedMailbox> {
  const { account, description, accountDir } = prepared;
  // The target mailbox: the account's own (emptied), or a new one for the copy or for a
  // deleted account whose mailbox is gone.
  const { rows: existing } = await client.query<{ id: number; group_id: number; change_number: number }>(
    "SELECT id, group_id, change_number FROM mailstore.mailbox WHERE account_id = $1 FOR UPDATE",
    [accountId],
  );
  let mailbox = existing[0];
  // A mailbox made after the batch read its redo could have records that read missed: the
  // batch fails, and its accounts are restored one at a time.
  if (logged && mailbox && !logged.locked.has(accountId)) throw new Error(`the mailbox of ${account.target.email} was created while its batch was being restored`);
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
  // The mailbox is empty here: the items loaded are its snapshot's, with the first run of redo
  // folded in (replay calls this before it writes anything). The time spent rewriting the rows the
  // run touches counts as replay; finding each row's id counts as loading.
  let snapshotItems = 0;
  let loadMs = 0;
  const folded: FoldStats = { rows: 0, dropped: 0, ms: 0 };
  const loadSnapshot = async (fold: SnapshotFold | null) => {
    const started = performance.now();
    if (accountDir) {
      // The snapshot's count includes the rows the first run deletes, which were not loaded.
      snapshotItems = (await loadTable(client, target, `${accountDir}/items.copy.gz`, items, description.columns.items, mailbox.id, account, fold, folded)) + folded.dropped;
      await loadTable(client, target, `${accountDir}/tombstones.copy.gz`, tombstones, description.columns.tombstones, mailbox.id, account);
    }
    loadMs = performance.now() - started - folded.ms;
  };

  let blobsCopied = 0;
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
  const t1 = performance.now();
  const state: ReplayState = account.snapshot
    ? { changeNumber: account.snapshot.changeNumber, lastRedoSeq: account.snapshot.lastRedoSeq, applied: 0, skipped: 0, gaps: [] }
    : { changeNumber: 0, lastRedoSeq: account.fromCreate!.seq - 1, applied: 0, skipped: 0, gaps: [] };
  await replay({ client, mailboxId: mailbox.id, items, tombstones, ensureBlob, loadSnapshot }, accountRedo(account, store, target, { logged: logged?.records }), state, { ...options, mode: options.replayMode });
  const t2 = performance.now();

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
  return {
    mailboxId: mailbox.id,
    snapshotItems,
    foldedRows: folded.rows,
    blobsCopied,
    replayed: state.applied,
    skipped: state.skipped,
    gaps: state.gaps,
    changeNumber,
    markerSeq: seqRows[0]!.seq,
    loadMs,
    replayMs: t2 - t1 - loadMs,
  };
}

function accountResult(account: AccountPlan, accountId: string, reloaded: ReloadedMailbox, timings: Omit<AccountRestoreResult["timings"], "loadMs" | "replayMs">): AccountRestoreResult {
  const { loadMs, replayMs, ...rest } = reloaded;
  return {
    requested: account.requested,
    accountId,
    target: account.target.email,
    ...rest,
    timings: {
      prepareMs: Math.round(timings.prepareMs),
      blobsMs: Math.round(timings.blobsMs),
      loadMs: Math.round(loadMs),
      replayMs: Math.round(replayMs),
      commitMs: Math.round(timings.commitMs),
    },
  };
}

/**
 * In place, the directory status around a reload: maintenance while it runs (its own commit,
 * visible at once; the mailbox row lock holds deliveries back until the reload commits), active
 * once it committed (a deleted account restored is live again), and active again when it failed
 * (the mailbox is as it was).
 */
async function setReloadStatus(ids: string[], step: "reloading" | "reloaded" | "failed"): Promise<void> {
  const sql = {
    reloading: "UPDATE account SET status = 'maintenance' WHERE id = ANY($1::uuid[])",
    reloaded: "UPDATE account SET status = 'active', status_reason = NULL, deleted_at = NULL WHERE id = ANY($1::uuid[])",
    failed: "UPDATE account SET status = 'active' WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL",
  }[step];
  await consolePool().query(sql, [ids]);
}

export async function restoreAccount(options: RestoreOptions & { account: AccountPlan }): Promise<AccountRestoreResult> {
  const { account } = options;
  const started = performance.now();
  const server = await getServerConfig(options.server);
  const store: Mailstore = await openMailstore(server.name);
  const target = await targetHolding(server, planSessions(account), { required: true });
  const prepared = await prepareAccount(target, account);
  const { description } = prepared;

  // A copy's new directory entry commits with its mailbox, in a console transaction held through
  // the restore; the other modes write the directory with single statements and hold none.
  const restore = async (dir: pg.PoolClient | null): Promise<AccountRestoreResult> => {
    const inPlace = account.target.mode === "in-place";
    let accountId = account.accountId;
    const client = await store.pool.connect();
    try {
      // Directory first (a copy's inside the still-open console transaction).
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
        await setReloadStatus([accountId], "reloading");
      }

      // Blobs back from the backup: only those the volume lacks, each pack read once and in
      // order, several packs at a time, and made durable, with those the redo brings back, by one
      // sync of the volume just before the metadata that refers to them commits.
      const t0 = performance.now();
      const snapshotBlobs = options.excludeBlobs ? 0 : await restoreSnapshotBlobs(target, store, prepared.digests, account.snapshot?.session ?? "the backup", options.signal);
      const t1 = performance.now();
      await client.query("BEGIN");
      const reloaded = await reloadMailbox(client, store, target, prepared, accountId, options);
      const t2 = performance.now();
      if (options.signal?.aborted) throw new Error("restore aborted");
      reloaded.blobsCopied += snapshotBlobs;
      if (reloaded.blobsCopied) await store.blobs.syncVolume();
      await client.query("COMMIT");
      if (inPlace) await setReloadStatus([accountId], "reloaded");
      return accountResult(account, accountId, reloaded, { prepareMs: t0 - started, blobsMs: t1 - t0, commitMs: performance.now() - t2 });
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      if (inPlace) await setReloadStatus([accountId], "failed").catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  };
  return account.target.mode === "copy" ? inConsoleTransaction(restore) : restore(null);
}

/**
 * Several accounts restored in place together, as a mailbox group or server rebuild does: their
 * snapshots' blobs brought back in one pass over the packs (each pack read once for all of
 * them), their redo of the archive and current log read in one pass, every mailbox reloaded in
 * one mailstore transaction, and one sync of the volume before that one commit. All of them are
 * restored, or none: a failure rolls every one back, and the caller then restores them one at a
 * time so that a bad account fails alone. An account's `prepareMs`, `blobsMs` and `commitMs`
 * are its share of the batch's, and its `replayMs` includes its share of the shared redo read.
 */
export async function restoreAccountsTogether(options: RestoreOptions & { accounts: AccountPlan[] }): Promise<AccountRestoreResult[]> {
  const { accounts } = options;
  const notInPlace = accounts.find((a) => a.target.mode !== "in-place");
  if (notInPlace) throw new Error(`${notInPlace.requested} is restored into ${notInPlace.target.email}: only restores in place are batched`);
  const started = performance.now();
  const server = await getServerConfig(options.server);
  const store = await openMailstore(server.name);
  const target = await targetHolding(server, [...new Set(accounts.flatMap((a) => planSessions(a)))], { required: true });
  const prepared: PreparedAccount[] = [];
  for (let i = 0; i < accounts.length; i += 8) prepared.push(...(await Promise.all(accounts.slice(i, i + 8).map((a) => prepareAccount(target, a)))));
  const ids = accounts.map((a) => a.accountId);

  const client = await store.pool.connect();
  try {
    await setReloadStatus(ids, "reloading");
    const t0 = performance.now();
    const sessions = [...new Set(accounts.flatMap((a) => (a.snapshot ? [a.snapshot.session] : [])))].join(", ") || "the backup";
    const snapshotBlobs = options.excludeBlobs ? 0 : await restoreSnapshotBlobs(target, store, [...new Set(prepared.flatMap((p) => p.digests))], sessions, options.signal);
    const t1 = performance.now();
    await client.query("BEGIN");
    // Every mailbox of the batch locked first, in one order, then their redo of the archive and
    // current log read once for all of them: a delivery to one of them either committed before
    // that read, and is in it, or waits for this commit.
    const { rows: lockedRows } = await client.query<{ account_id: string }>("SELECT account_id FROM mailstore.mailbox WHERE account_id = ANY($1::uuid[]) ORDER BY id FOR UPDATE", [ids]);
    const locked = new Set(lockedRows.map((r) => r.account_id));
    const { logged, written: loggedBlobs } = await readLoggedRedo(accounts, store, { bodies: !options.rowsOnly });
    // The shared read counts, in equal shares, as the accounts' replay.
    const logReadMs = performance.now() - t1;
    const reloaded: ReloadedMailbox[] = [];
    for (const p of prepared) {
      if (options.signal?.aborted) throw new Error("restore aborted");
      const own = logged.get(p.account.accountId);
      logged.delete(p.account.accountId); // each account's records are let go once it is reloaded
      reloaded.push(await reloadMailbox(client, store, target, p, p.account.accountId, options, { records: own, locked }));
    }
    const t2 = performance.now();
    if (options.signal?.aborted) throw new Error("restore aborted");
    if (snapshotBlobs || loggedBlobs || reloaded.some((r) => r.blobsCopied)) await store.blobs.syncVolume();
    await client.query("COMMIT");
    await setReloadStatus(ids, "reloaded");
    const n = accounts.length;
    const shares = { prepareMs: (t0 - started) / n, blobsMs: (t1 - t0) / n, commitMs: (performance.now() - t2) / n };
    // The blobs brought back for the whole batch are counted once, against the first account.
    return accounts.map((a, i) => {
      const own = reloaded[i]!;
      const result = accountResult(a, a.accountId, { ...own, blobsCopied: own.blobsCopied + (i === 0 ? snapshotBlobs + loggedBlobs : 0), replayMs: own.replayMs + logReadMs / n }, shares);
      return { ...result, batch: n };
    });
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    await setReloadStatus(ids, "failed").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
