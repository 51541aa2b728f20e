/**
 * The redo stream of a server: its archived segments, then the records still in
 * `mailstore.redo_log`, read as one stream in sequence order, with filters. Segments whose
 * sequence or time range cannot match are skipped unopened beyond their header.
 */
import { open } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import { binaryCopyRowBatches } from "../db/copy-binary.ts";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { LAST_ARCHIVED_SEQ, listSegments, lockArchiveSharedOn, PLAN_AS_USUAL, STREAM_IN_ORDER } from "./archive-redo.ts";
import { BYTES_COLUMNS, LOG_COLUMNS, logRecords, messageBytes } from "./log-rows.ts";
import { readSealedSegment } from "./read-sealed-segment.ts";
import type { RedoRecord, SegmentHeader } from "./segment-format.ts";

export interface RedoFilter {
  accountIds?: string[];
  mailboxId?: number;
  ops?: string[];
  fromTime?: Date;
  toTime?: Date;
  fromSeq?: number;
  toSeq?: number;
}

export function matches(record: RedoRecord, filter: RedoFilter): boolean {
  if (filter.fromSeq !== undefined && record.seq < filter.fromSeq) return false;
  if (filter.toSeq !== undefined && record.seq > filter.toSeq) return false;
  if (filter.mailboxId !== undefined && record.mailboxId !== filter.mailboxId) return false;
  if (filter.accountIds && !filter.accountIds.includes(record.accountId)) return false;
  if (filter.ops && !filter.ops.includes(record.op)) return false;
  if (filter.fromTime && Date.parse(record.at) < filter.fromTime.getTime()) return false;
  if (filter.toTime && Date.parse(record.at) > filter.toTime.getTime()) return false;
  return true;
}

export function headerCanMatch(header: SegmentHeader, filter: RedoFilter): boolean {
  if (filter.fromSeq !== undefined && header.lastSeq < filter.fromSeq) return false;
  if (filter.toSeq !== undefined && header.firstSeq > filter.toSeq) return false;
  if (header.recordCount === 0) return false;
  if (filter.fromTime && header.lastAt && Date.parse(header.lastAt) < filter.fromTime.getTime()) return false;
  if (filter.toTime && header.firstAt && Date.parse(header.firstAt) > filter.toTime.getTime()) return false;
  return true;
}

interface LogRow {
  seq: number;
  at: Date;
  txid: string;
  mailbox_id: number;
  account_id: string;
  change_number: number;
  op: string;
  payload: Record<string, unknown>;
  blob: Buffer | null;
}

export function rowToRecord(r: LogRow): RedoRecord {
  return {
    seq: r.seq,
    at: r.at.toISOString(),
    txid: r.txid,
    mailboxId: r.mailbox_id,
    accountId: r.account_id,
    changeNumber: r.change_number,
    op: r.op,
    payload: r.payload,
    ...(r.blob ? { blob: r.blob } : {}),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A string as an SQL literal, quoted by pg (COPY takes no parameters). */
const literal = (text: string) => pg.escapeLiteral(text);

/**
 * Records of the current (unarchived) log after `afterSeq`, as one binary COPY of the columns as
 * stored (`log-rows.ts`, the archiver's own decoding): a record costs Node its payload's
 * JSON.parse, and its message bytes arrive raw. One snapshot, one round trip.
 */
export async function* readCurrentLog(store: Mailstore, afterSeq: number, filter: RedoFilter, withBlobs: boolean): AsyncGenerator<RedoRecord> {
  for await (const records of readCurrentLogBatches(store, afterSeq, filter, withBlobs)) yield* records;
}

async function* readCurrentLogBatches(
  store: Mailstore,
  afterSeq: number,
  filter: RedoFilter,
  withBlobs: boolean,
  /** A connection the caller holds (readRedo's, with the archive lock), STREAM_IN_ORDER set and reset by it; told when it is spoilt. */
  borrowed?: { client: pg.PoolClient; spoilt(): void },
): AsyncGenerator<RedoRecord[]> {
  if (filter.accountIds && !filter.accountIds.every((id) => UUID.test(id))) throw new Error("account ids are UUIDs");
  const where = [`seq > ${Math.max(afterSeq, (filter.fromSeq ?? 0) - 1)}`];
  if (filter.toSeq !== undefined) where.push(`seq <= ${Number(filter.toSeq)}`);
  if (filter.mailboxId !== undefined) where.push(`mailbox_id = ${Number(filter.mailboxId)}`);
  if (filter.accountIds) where.push(`account_id = ANY(ARRAY[${filter.accountIds.map(literal).join(", ") || "NULL"}]::uuid[])`);
  if (filter.ops) where.push(`op = ANY(ARRAY[${filter.ops.map(literal).join(", ") || "NULL"}]::text[])`);
  if (filter.fromTime) where.push(`at >= ${literal(filter.fromTime.toISOString())}::timestamptz`);
  if (filter.toTime) where.push(`at <= ${literal(filter.toTime.toISOString())}::timestamptz`);
  const client = borrowed?.client ?? (await store.pool.connect());
  let finished = false;
  // In sequence order straight off the primary key (STREAM_IN_ORDER).
  let stream: ReturnType<typeof copyTo> | undefined;
  try {
    if (!borrowed) await client.query(STREAM_IN_ORDER);
    stream = client.query(
      copyTo(`COPY (
        SELECT ${LOG_COLUMNS}${withBlobs ? `, ${BYTES_COLUMNS}` : ""}
          FROM mailstore.redo_log WHERE ${where.join(" AND ")} ORDER BY seq
      ) TO STDOUT (FORMAT binary)`),
    );
    for await (const rows of binaryCopyRowBatches(stream)) {
      // A delivery's bytes come from the blob volume until the archiver seals them into a segment.
      yield logRecords(rows, withBlobs ? (row) => messageBytes(row, store.blobs) : undefined);
    }
    if (!borrowed) await client.query(PLAN_AS_USUAL);
    finished = true;
  } finally {
    // A reader that stopped early leaves the connection mid-COPY: it is closed, not reused.
    if (!finished) stream?.destroy();
    if (!borrowed) client.release(!finished);
    else if (!finished) borrowed.spoilt();
  }
}

/** The server's redo stream, record by record; `readRedoBatches` is the same in arrays, for readers of many records. */
export async function* readRedo(store: Mailstore, filter: RedoFilter = {}, options: { withBlobs?: boolean } = {}): AsyncGenerator<RedoRecord> {
  for await (const records of readRedoBatches(store, filter, options)) yield* records;
}

export async function* readRedoBatches(store: Mailstore, filter: RedoFilter = {}, options: { withBlobs?: boolean } = {}): AsyncGenerator<RedoRecord[]> {
  // While this reads, no archiver moves records from the table into a new segment. The
  // connection that holds the lock also reads the current log: one connection per reader.
  const { client, release } = await lockArchiveSharedOn(store);
  let spoilt = false;
  try {
    yield* readLocked(store, filter, options, { client, spoilt: () => (spoilt = true) });
  } finally {
    // A connection left mid-COPY is closed, which also lets its lock go.
    await release({ destroy: spoilt });
  }
}

async function* readLocked(store: Mailstore, filter: RedoFilter, options: { withBlobs?: boolean }, borrowed: { client: pg.PoolClient; spoilt(): void }): AsyncGenerator<RedoRecord[]> {
  let archivedThrough = 0;
  // By account, or one sequence number: where those records lie in a segment read before is known.
  const accounts = filter.accountIds ?? (filter.fromSeq !== undefined && filter.fromSeq === filter.toSeq ? "any" : undefined);
  for (const segment of await listSegments(store.redoArchivePath)) {
    archivedThrough = Math.max(archivedThrough, segment.lastSeq);
    if (filter.fromSeq !== undefined && segment.lastSeq < filter.fromSeq) continue;
    if (filter.toSeq !== undefined && segment.firstSeq > filter.toSeq) return;
    const where = path.join(store.redoArchivePath, segment.name);
    yield* readSealedSegment(segment.name, where, () => open(where, "r"), {
      accounts,
      fromSeq: filter.fromSeq,
      toSeq: filter.toSeq,
      keep: (r) => matches(r, filter),
      headerCanMatch: (header) => headerCanMatch(header, filter),
      withBlobs: options.withBlobs,
    });
  }
  // Rows the archiver sealed but had not yet deleted when it stopped are read from the segment.
  // Asked on the reader's own connection: a reader holds one connection, never waits for a second.
  // The planner settings for the COPY go in the same round trip; the lock's release resets them.
  const results = (await borrowed.client.query(`${STREAM_IN_ORDER}; ${LAST_ARCHIVED_SEQ}`)) as unknown as pg.QueryResult<{ last_archived_seq: number }>[];
  const after = Math.max(archivedThrough, results.at(-1)!.rows[0]?.last_archived_seq ?? 0);
  yield* readCurrentLogBatches(store, after, filter, options.withBlobs ?? false, borrowed);
}
