/**
 * Seals committed redo records into segment files and removes them from `mailstore.redo_log`.
 *
 * Sequence numbers are drawn from a sequence when a transaction inserts its record, but
 * transactions commit in any order, so at any moment the table may lack a number whose
 * transaction is still running (it will appear) or rolled back (it never will). Archiving past
 * such a hole would skip a record that commits late. The archiver therefore takes a horizon:
 *   1. read the sequence's last drawn value L, then take a new transaction id X;
 *   2. wait until every transaction older than X has ended (pg_snapshot_xmin > X).
 * Every transaction that drew a number <= L had its txid before drawing it (the write path
 * locks the mailbox row first, see server/mailstore/mailbox-tx.ts), so after step 2 each
 * number <= L is either visible in the table or will never exist. Records up to L are sealed;
 * the numbers missing among them are written into the segment as voids, so the archive accounts
 * for every number exactly once.
 *
 * A segment is written under a temporary name, fsynced and renamed, then its rows are deleted and
 * `redo_state.last_archived_seq` advanced in one transaction. After a crash between the rename
 * and that transaction, the next run finds the segment and finishes the delete. A session-level
 * advisory lock keeps two archivers of the same server from running at once.
 */
import { mkdir, open, readdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { syncFolder } from "../fs/sync-folder.ts";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { to as copyTo } from "pg-copy-streams";
import { binaryCopyRowBatches } from "../db/copy-binary.ts";
import { BYTES_COLUMNS, LOG_COLUMNS, logMetaJson, RECORD_SIZE } from "./log-rows.ts";
import { parseSegmentName, SEGMENT_FORMAT, segmentName, type SegmentHeader } from "./segment-format.ts";
import { SegmentWriter } from "./segment-writer.ts";

export interface ArchiveOptions {
  /** Seal whatever is committed, whatever its size and age. */
  force?: boolean;
  /** Seal when the unarchived log holds at least this many bytes... */
  maxBytes: number;
  /** ...or its oldest record is this old. */
  maxAgeSeconds: number;
  /** Largest segment to write; more records go into further segments. Defaults to maxBytes. */
  segmentBytes?: number;
  /**
   * How long to wait for the archive lock when another archiver or a reader holds it; 0 answers
   * "busy" at once. "Archive now" waits, so it reports what it sealed rather than a race it lost.
   */
  lockWaitMs?: number;
  /** How long to wait for older transactions to end before giving up this run. */
  horizonTimeoutMs?: number;
  onProgress?: (progress: { segments: number; records: number; lastSeq: number }) => void;
  /** Called once a segment is durable, before its rows leave the table (tests crash here). */
  onSegmentSealed?: (name: string) => void | Promise<void>;
}

export interface ArchiveResult {
  /** busy: another archiver, or a reader of the whole stream, holds the archive lock. */
  status: "archived" | "below-threshold" | "busy" | "waiting-for-transactions" | "empty";
  segments: string[];
  records: number;
  voids: number;
  bytes: number;
  lastArchivedSeq: number;
  /**
   * Digests of delivered messages the blob volume no longer had when their records were sealed
   * (the volume was lost or damaged since the delivery): those records went into the archive
   * without their bytes, which a restore must then find in a backup.
   */
  blobsMissing: string[];
}

/**
 * Readers of the whole stream (dump, verify) hold this lock shared while they read; the archiver
 * needs it exclusively, so it never moves records from the table into a segment under a reader.
 */
const ARCHIVE_LOCK = "mailvault.redo.archive";

/** Holds the archive lock shared for as long as the returned release has not been called. */
export async function lockArchiveShared(store: Mailstore): Promise<() => Promise<void>> {
  const { release } = await lockArchiveSharedOn(store);
  return () => release();
}

/**
 * The same, on a connection the holder may use meanwhile. Releasing with `destroy` closes the
 * connection instead of returning it to the pool (one left mid-COPY); its lock ends with it.
 */
export async function lockArchiveSharedOn(store: Mailstore): Promise<{ client: pg.PoolClient; release(options?: { destroy?: boolean }): Promise<void> }> {
  const client = await store.pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock_shared(hashtext($1))", [ARCHIVE_LOCK]);
  } catch (error) {
    client.release();
    throw error;
  }
  return {
    client,
    async release({ destroy = false } = {}) {
      if (destroy) return client.release(true);
      // With the planner settings a reader of the log may have left (STREAM_IN_ORDER), in one round trip.
      await client.query(`${PLAN_AS_USUAL}; SELECT pg_advisory_unlock_shared(hashtext(${pg.escapeLiteral(ARCHIVE_LOCK)}))`).catch(() => {});
      client.release();
    },
  };
}

/**
 * Set on a connection around a COPY of the log in sequence order, so the rows come straight off
 * the primary key: the first arrives at once and Node works while Postgres reads. Left to itself
 * the planner often sorts the whole range first (with a fresh log's statistics it expects a few
 * rows), with every record's JSON and message bytes in the sort, which spills to disk.
 */
export const STREAM_IN_ORDER = "SET enable_sort = off; SET enable_bitmapscan = off";
export const PLAN_AS_USUAL = "RESET enable_sort; RESET enable_bitmapscan";

/** The last sequence number sealed into a segment, as a statement of its own (`lastArchivedSeq`). */
export const LAST_ARCHIVED_SEQ = "SELECT last_archived_seq FROM mailstore.redo_state";

export async function lastArchivedSeq(db: pg.Pool | pg.PoolClient): Promise<number> {
  const { rows } = await db.query<{ last_archived_seq: number }>(LAST_ARCHIVED_SEQ);
  return rows[0]?.last_archived_seq ?? 0;
}

export async function listSegments(archiveDir: string): Promise<{ name: string; firstSeq: number; lastSeq: number }[]> {
  const names = await readdir(archiveDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [] as string[];
    throw error;
  });
  return names
    .map((name) => ({ name, range: parseSegmentName(name) }))
    .filter((s): s is { name: string; range: { firstSeq: number; lastSeq: number } } => s.range !== null)
    .map((s) => ({ name: s.name, ...s.range }))
    .sort((a, b) => a.firstSeq - b.firstSeq);
}

async function markArchived(client: pg.PoolClient, lastSeq: number, segments: number): Promise<void> {
  await client.query("BEGIN");
  try {
    await client.query("DELETE FROM mailstore.redo_log WHERE seq <= $1", [lastSeq]);
    await client.query(
      "UPDATE mailstore.redo_state SET last_archived_seq = GREATEST(last_archived_seq, $1), last_archived_at = now(), segments = segments + $2",
      [lastSeq, segments],
    );
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}

/** Finishes what a crashed run left: stray temporary files, a renamed segment whose rows remain. */
async function recover(store: Mailstore, client: pg.PoolClient): Promise<number> {
  await mkdir(store.redoArchivePath, { recursive: true });
  for (const name of await readdir(store.redoArchivePath)) {
    if (name.startsWith(".tmp-")) await rm(path.join(store.redoArchivePath, name), { force: true });
  }
  const recorded = await lastArchivedSeq(client);
  const segments = await listSegments(store.redoArchivePath);
  const onDisk = segments.at(-1)?.lastSeq ?? 0;
  if (onDisk > recorded) await markArchived(client, onDisk, segments.filter((s) => s.lastSeq > recorded).length);
  return Math.max(recorded, onDisk);
}

/**
 * Step 1 and 2 of the horizon; null when older transactions did not end in time. X must be a
 * freshly assigned transaction id: `pg_snapshot_xmax` is only "latest completed + 1", and a
 * transaction running with a higher id would slip past it.
 */
export async function horizon(client: pg.PoolClient, timeoutMs: number): Promise<number | null> {
  await client.query("BEGIN");
  let drawn: number;
  let xid: string;
  try {
    const { rows: seqRows } = await client.query<{ last_value: number; is_called: boolean }>("SELECT last_value, is_called FROM mailstore.redo_seq");
    drawn = seqRows[0]!.is_called ? seqRows[0]!.last_value : 0;
    const { rows: xidRows } = await client.query<{ xid: string }>("SELECT pg_current_xact_id()::text AS xid");
    xid = xidRows[0]!.xid;
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
  const deadline = Date.now() + timeoutMs;
  // Only this database's transactions can hold a redo sequence number, so only they are waited
  // for: a long transaction in another database of the cluster (another server's restore, the
  // console) must not stall this archiver. That needs a role that sees every backend's xid
  // (superuser or pg_read_all_stats); any other waits for the whole cluster, as is always safe.
  const { rows: role } = await client.query<{ sees: boolean }>(
    "SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) OR pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER') AS sees",
  );
  const [olderEnded, param] = role[0]!.sees
    ? [
        `SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity
                             WHERE datname = current_database() AND backend_xid IS NOT NULL AND age(backend_xid) > age($1::xid)) AS done`,
        String(BigInt(xid) % 2n ** 32n), // the 32-bit xid pg_stat_activity shows
      ]
    : ["SELECT pg_snapshot_xmin(pg_current_snapshot()) > $1::xid8 AS done", xid];
  for (;;) {
    const { rows } = await client.query<{ done: boolean }>(olderEnded, [param]);
    if (rows[0]!.done) return drawn;
    if (Date.now() > deadline) return null;
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Planned {
  firstSeq: number;
  lastSeq: number;
  seqs: { seq: number; at: Date; size: number }[];
}

/** Cuts (from, to] into segments of at most `segmentBytes`, each covering a contiguous range. */
function planSegments(from: number, to: number, rows: { seq: number; at: Date; size: number }[], segmentBytes: number): Planned[] {
  const plans: Planned[] = [];
  let current: Planned = { firstSeq: from + 1, lastSeq: to, seqs: [] };
  let bytes = 0;
  for (const row of rows) {
    if (current.seqs.length > 0 && bytes + row.size > segmentBytes) {
      current.lastSeq = row.seq - 1;
      plans.push(current);
      current = { firstSeq: row.seq, lastSeq: to, seqs: [] };
      bytes = 0;
    }
    current.seqs.push(row);
    bytes += row.size;
  }
  plans.push(current);
  return plans;
}

function voidsOf(plan: Planned): [number, number][] {
  const voids: [number, number][] = [];
  let expected = plan.firstSeq;
  for (const { seq } of [...plan.seqs, { seq: plan.lastSeq + 1 }]) {
    if (seq > expected) voids.push([expected, seq - 1]);
    expected = seq + 1;
  }
  return voids;
}


/**
 * Writes one segment. A COPY that did not run to its end leaves the connection unusable (pg stops
 * reading the socket, so any later query on it waits forever): `spoil()` then tells the caller to
 * close it rather than ask anything more of it, which also lets the archive lock go.
 */
async function writeSegment(store: Mailstore, client: pg.PoolClient, plan: Planned, spoil: () => void): Promise<{ name: string; bytes: number; blobsMissing: string[] }> {
  const firstAt = plan.seqs[0]?.at ?? new Date();
  const header: SegmentHeader = {
    server: store.server,
    format: SEGMENT_FORMAT,
    firstSeq: plan.firstSeq,
    lastSeq: plan.lastSeq,
    firstAt: plan.seqs[0]?.at.toISOString() ?? null,
    lastAt: plan.seqs.at(-1)?.at.toISOString() ?? null,
    recordCount: plan.seqs.length,
    voids: voidsOf(plan),
    createdAt: new Date().toISOString(),
  };
  const name = segmentName(firstAt, plan.firstSeq, plan.lastSeq);
  const temp = path.join(store.redoArchivePath, `.tmp-${name}`);
  const file = await open(temp, "wx");
  let writer: SegmentWriter | undefined;
  let copied = false;
  try {
    writer = await SegmentWriter.open(file, header);
    // Binary COPY streams the rows as stored; Node renders each record's metadata in the
    // segment's JSON shape (log-rows.ts). Deliveries' bytes come from the blob volume, where the
    // write path put them before it committed; from here on the segment carries them. The
    // writer's thread reads them, frames, checksums and writes while this one reads on.
    await client.query(STREAM_IN_ORDER);
    const copy = client.query(
      copyTo(`COPY (
        SELECT ${LOG_COLUMNS}, ${BYTES_COLUMNS}
          FROM mailstore.redo_log WHERE seq >= ${Number(plan.firstSeq)} AND seq <= ${Number(plan.lastSeq)} ORDER BY seq
      ) TO STDOUT (FORMAT binary)`),
    );
    let written = 0;
    try {
      for await (const rows of binaryCopyRowBatches(copy)) {
        await writer.append(
          rows.map((row) => ({ meta: logMetaJson(row), blob: row[8] ?? undefined, digest: row[9]?.toString("utf8") })),
          store.blobs.root,
        );
        written += rows.length;
      }
    } catch (error) {
      copy.destroy();
      throw error;
    }
    await client.query(PLAN_AS_USUAL);
    copied = true;
    // The plan counted these rows after the horizon; a different number means the table moved.
    if (written !== plan.seqs.length) throw new Error(`redo log changed while archiving: planned ${plan.seqs.length} records, read ${written}`);
    await writer.finish();
    await file.sync();
  } catch (error) {
    if (!copied) spoil();
    await writer?.abort();
    throw error;
  } finally {
    await file.close();
  }
  await rename(temp, path.join(store.redoArchivePath, name));
  await syncFolder(store.redoArchivePath);
  return { name, bytes: writer.bytes, blobsMissing: writer.blobsMissing };
}

/**
 * Runs `work` holding the archive lock exclusively (waiting for it): no archive run, and no
 * reader of the whole stream, meanwhile. Bringing segments into the archive from elsewhere
 * (fetch-shipped-redo.ts) needs it: an archive run would take them for its own, half-written.
 */
export async function withArchiveLock<T>(store: Mailstore, work: () => Promise<T>): Promise<T> {
  const client = await store.pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock(hashtext($1))", [ARCHIVE_LOCK]);
    try {
      return await work();
    } finally {
      await client.query("SELECT pg_advisory_unlock(hashtext($1))", [ARCHIVE_LOCK]).catch(() => {});
    }
  } finally {
    client.release();
  }
}

async function takeArchiveLock(client: pg.PoolClient, waitMs: number): Promise<boolean> {
  if (waitMs <= 0) {
    const { rows } = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock(hashtext($1)) AS ok", [ARCHIVE_LOCK]);
    return rows[0]!.ok;
  }
  await client.query(`SET lock_timeout = ${Math.ceil(waitMs)}`);
  try {
    await client.query("SELECT pg_advisory_lock(hashtext($1))", [ARCHIVE_LOCK]);
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === "55P03") return false; // lock_not_available: the wait ran out
    throw error;
  } finally {
    await client.query("RESET lock_timeout");
  }
}

export async function archiveRedo(store: Mailstore, options: ArchiveOptions): Promise<ArchiveResult> {
  const client = await store.pool.connect();
  const result: ArchiveResult = { status: "archived", segments: [], records: 0, voids: 0, bytes: 0, lastArchivedSeq: 0, blobsMissing: [] };
  let locked = false;
  let spoilt = false;
  try {
    locked = await takeArchiveLock(client, options.lockWaitMs ?? 0);
    if (!locked) return { ...result, status: "busy", lastArchivedSeq: await lastArchivedSeq(client) };

    const from = await recover(store, client);
    result.lastArchivedSeq = from;
    // The thresholds: a forced run (archive now) seals whatever is there, so it need not ask.
    if (!options.force) {
      const { rows: stats } = await client.query<{ count: number; bytes: string | null; oldest: Date | null }>(
        `SELECT count(*) AS count, sum(${RECORD_SIZE}) AS bytes, min(at) AS oldest
           FROM mailstore.redo_log WHERE seq > $1`,
        [from],
      );
      const pending = stats[0]!;
      const ageSeconds = pending.oldest ? (Date.now() - pending.oldest.getTime()) / 1000 : 0;
      if (Number(pending.bytes ?? 0) < options.maxBytes && ageSeconds < options.maxAgeSeconds) {
        return { ...result, status: pending.count === 0 ? "empty" : "below-threshold" };
      }
    }

    const to = await horizon(client, options.horizonTimeoutMs ?? 10_000);
    if (to === null) return { ...result, status: "waiting-for-transactions" };
    if (to <= from) return { ...result, status: "empty" };

    const { rows } = await client.query<{ seq: number; at: Date; size: number }>(
      `SELECT seq, at, ${RECORD_SIZE} AS size
         FROM mailstore.redo_log WHERE seq > $1 AND seq <= $2 ORDER BY seq`,
      [from, to],
    );
    for (const plan of planSegments(from, to, rows, options.segmentBytes ?? options.maxBytes)) {
      const { name, bytes, blobsMissing } = await writeSegment(store, client, plan, () => (spoilt = true));
      await options.onSegmentSealed?.(name);
      await markArchived(client, plan.lastSeq, 1);
      result.segments.push(name);
      result.records += plan.seqs.length;
      result.voids += plan.lastSeq - plan.firstSeq + 1 - plan.seqs.length;
      result.bytes += bytes;
      result.blobsMissing.push(...blobsMissing);
      result.lastArchivedSeq = plan.lastSeq;
      options.onProgress?.({ segments: result.segments.length, records: result.records, lastSeq: plan.lastSeq });
    }
    return result;
  } finally {
    // A spoilt connection is closed: its session's end lets the lock go.
    if (spoilt) client.release(true);
    else {
      if (locked) await client.query("SELECT pg_advisory_unlock(hashtext($1))", [ARCHIVE_LOCK]).catch(() => {});
      client.release();
    }
  }
}
