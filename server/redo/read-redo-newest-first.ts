/**
 * A server's redo read backwards, newest record first, from every place it lives: the current
 * log, the sealed segments of the redo archive, and segment folders elsewhere (the backup
 * target's sessions). The same record can be in several places (the archive keeps segments a
 * session already holds for a while), so the reader keeps `coveredFrom`, the lowest sequence
 * number from which on everything has been read: the log covers everything after the archive's
 * horizon, and segments, taken by last sequence number downwards, give only their records below
 * it. Each segment is read forwards (the format has no backward index) and its matching records
 * are yielded in reverse, so memory holds one segment's matches; a caller that stops early
 * leaves the older segments unopened. The archive is locked shared (as readRedo does) until its
 * segments have been read, so no record moves from the log into a new segment meanwhile.
 */
import { open } from "node:fs/promises";
import path from "node:path";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { lastArchivedSeq, listSegments, lockArchiveShared } from "./archive-redo.ts";
import { matches, rowToRecord, type RedoFilter } from "./read-redo.ts";
import { readSegment, type RedoRecord, type SegmentFile } from "./segment-format.ts";

/** A sealed segment somewhere: in the redo archive, or a session's on the backup target. */
export interface SegmentSource {
  name: string;
  firstSeq: number;
  lastSeq: number;
  /** Where it is, for messages. */
  where: string;
  open(): Promise<{ file: SegmentFile; close(): Promise<void> }>;
}

export interface NewestFirstOptions {
  /** Further segments, e.g. those of the backup target's sessions. */
  segments?: SegmentSource[];
  /** A segment that cannot be read is skipped and reported here. */
  onWarning?: (message: string) => void;
}

async function* currentLogNewestFirst(store: Mailstore, afterSeq: number, filter: RedoFilter): AsyncGenerator<RedoRecord> {
  let below = filter.toSeq === undefined ? Number.MAX_SAFE_INTEGER : filter.toSeq + 1;
  const floor = Math.max(afterSeq, (filter.fromSeq ?? 0) - 1);
  for (;;) {
    const { rows } = await store.pool.query(
      `SELECT seq, at, txid::text AS txid, mailbox_id, account_id, change_number, op, payload, NULL::bytea AS blob
         FROM mailstore.redo_log
        WHERE seq > $1 AND seq < $2 AND ($3::uuid[] IS NULL OR account_id = ANY($3)) AND ($4::text[] IS NULL OR op = ANY($4))
          AND ($5::timestamptz IS NULL OR at >= $5) AND ($6::timestamptz IS NULL OR at <= $6) AND ($7::bigint IS NULL OR mailbox_id = $7)
        ORDER BY seq DESC LIMIT 500`,
      [floor, below, filter.accountIds ?? null, filter.ops ?? null, filter.fromTime ?? null, filter.toTime ?? null, filter.mailboxId ?? null],
    );
    for (const row of rows) yield rowToRecord(row);
    if (rows.length < 500) return;
    below = rows.at(-1)!.seq;
  }
}

async function segmentMatches(source: SegmentSource, below: number, filter: RedoFilter): Promise<RedoRecord[]> {
  const { file, close } = await source.open();
  const found: RedoRecord[] = [];
  try {
    for await (const entry of readSegment(source.name, file)) {
      if ("header" in entry) {
        const h = entry.header;
        if (filter.fromTime && h.lastAt && Date.parse(h.lastAt) < filter.fromTime.getTime()) break;
        if (filter.toTime && h.firstAt && Date.parse(h.firstAt) > filter.toTime.getTime()) break;
        continue;
      }
      if (entry.record.seq < below && matches(entry.record, filter)) found.push(entry.record);
    }
  } finally {
    await close();
  }
  return found.reverse();
}

export async function* readRedoNewestFirst(store: Mailstore, filter: RedoFilter = {}, options: NewestFirstOptions = {}): AsyncGenerator<RedoRecord> {
  const unlock = await lockArchiveShared(store);
  let locked = true;
  const release = async () => {
    if (locked) await unlock();
    locked = false;
  };
  try {
    const archive: SegmentSource[] = (await listSegments(store.redoArchivePath)).map((s) => {
      const where = path.join(store.redoArchivePath, s.name);
      return { ...s, where, open: async () => open(where, "r").then((handle) => ({ file: handle, close: () => handle.close() })) };
    });
    const files = [...archive, ...(options.segments ?? [])];
    const horizon = Math.max(await lastArchivedSeq(store.pool), ...archive.map((s) => s.lastSeq));
    yield* currentLogNewestFirst(store, horizon, filter);

    let coveredFrom = horizon + 1;
    files.sort((a, b) => b.lastSeq - a.lastSeq || a.firstSeq - b.firstSeq);
    let archiveLeft = archive.length;
    for (const file of files) {
      // Once the archive is behind us, the archiver need not wait for the sessions' segments.
      if (archiveLeft === 0) await release();
      if (archive.includes(file)) archiveLeft--;
      if (filter.fromSeq !== undefined && file.lastSeq < filter.fromSeq) return;
      if (file.firstSeq >= coveredFrom) continue;
      if (filter.toSeq !== undefined && file.firstSeq > filter.toSeq) continue;
      let records: RedoRecord[];
      try {
        records = await segmentMatches(file, coveredFrom, filter);
      } catch (error) {
        // A session removed meanwhile, or a damaged segment: what it held may be elsewhere.
        options.onWarning?.(`${file.where}: ${(error as Error).message}`);
        continue;
      }
      coveredFrom = Math.min(coveredFrom, file.firstSeq);
      yield* records;
    }
  } finally {
    await release();
  }
}
