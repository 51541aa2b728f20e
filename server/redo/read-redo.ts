/**
 * The redo stream of a server: its archived segments, then the records still in
 * `mailstore.redo_log`, read as one stream in sequence order, with filters. Segments whose
 * sequence or time range cannot match are skipped unopened beyond their header.
 */
import { open } from "node:fs/promises";
import path from "node:path";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { lastArchivedSeq, listSegments, lockArchiveShared } from "./archive-redo.ts";
import { readSegment, type RedoRecord, type SegmentHeader } from "./segment-format.ts";

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

/** Records of the current (unarchived) log after `afterSeq`, in keyset batches. */
export async function* readCurrentLog(store: Mailstore, afterSeq: number, filter: RedoFilter, withBlobs: boolean): AsyncGenerator<RedoRecord> {
  let after = Math.max(afterSeq, (filter.fromSeq ?? 0) - 1);
  for (;;) {
    const { rows } = await store.pool.query<LogRow>(
      `SELECT seq, at, txid::text AS txid, mailbox_id, account_id, change_number, op, payload, ${withBlobs ? "blob" : "NULL::bytea AS blob"}
         FROM mailstore.redo_log
        WHERE seq > $1 AND ($2::bigint IS NULL OR seq <= $2) AND ($3::bigint IS NULL OR mailbox_id = $3)
          AND ($4::uuid[] IS NULL OR account_id = ANY($4)) AND ($5::text[] IS NULL OR op = ANY($5))
          AND ($6::timestamptz IS NULL OR at >= $6) AND ($7::timestamptz IS NULL OR at <= $7)
        ORDER BY seq LIMIT 500`,
      [after, filter.toSeq ?? null, filter.mailboxId ?? null, filter.accountIds ?? null, filter.ops ?? null, filter.fromTime ?? null, filter.toTime ?? null],
    );
    for (const row of rows) yield rowToRecord(row);
    if (rows.length < 500) return;
    after = rows.at(-1)!.seq;
  }
}

export async function* readRedo(store: Mailstore, filter: RedoFilter = {}, options: { withBlobs?: boolean } = {}): AsyncGenerator<RedoRecord> {
  // While this reads, no archiver moves records from the table into a new segment.
  const release = await lockArchiveShared(store);
  try {
    yield* readLocked(store, filter, options);
  } finally {
    await release();
  }
}

async function* readLocked(store: Mailstore, filter: RedoFilter, options: { withBlobs?: boolean }): AsyncGenerator<RedoRecord> {
  let archivedThrough = 0;
  for (const segment of await listSegments(store.redoArchivePath)) {
    archivedThrough = Math.max(archivedThrough, segment.lastSeq);
    if (filter.fromSeq !== undefined && segment.lastSeq < filter.fromSeq) continue;
    if (filter.toSeq !== undefined && segment.firstSeq > filter.toSeq) return;
    const file = await open(path.join(store.redoArchivePath, segment.name), "r");
    try {
      for await (const entry of readSegment(segment.name, file, options)) {
        if ("header" in entry) {
          if (!headerCanMatch(entry.header, filter)) break;
          continue;
        }
        if (matches(entry.record, filter)) yield entry.record;
      }
    } finally {
      await file.close();
    }
  }
  // Rows the archiver sealed but had not yet deleted when it stopped are read from the segment.
  const after = Math.max(archivedThrough, await lastArchivedSeq(store.pool));
  yield* readCurrentLog(store, after, filter, options.withBlobs ?? false);
}
