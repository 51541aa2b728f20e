/**
 * Which redo sequence numbers (and, cheaply, which times) a server still holds outside its
 * backups: the sealed segments of its redo archive and the records of its current log. Segment
 * times come from each segment's header (read on its own, without reading the records); the
 * log's from one min/max query. The restore planner and the restore-points timeline use it.
 */
import { open } from "node:fs/promises";
import path from "node:path";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { lastArchivedSeq, listSegments } from "./archive-redo.ts";
import { SEGMENT_MAGIC, type SegmentHeader } from "./segment-format.ts";

export interface ArchivedSegment {
  name: string;
  firstSeq: number;
  lastSeq: number;
  /** Times of the segment's first and last record (null: not read, or the segment holds only voids). */
  firstAt: string | null;
  lastAt: string | null;
}

export interface RedoCoverage {
  archive: { segments: ArchivedSegment[]; lastArchivedSeq: number };
  currentLog: { firstSeq: number; lastSeq: number; firstAt: string; lastAt: string } | null;
}

/** The header of a segment file, or null when it cannot be read (the reader of the records reports damage). */
export async function readSegmentHeader(file: string): Promise<SegmentHeader | null> {
  const handle = await open(file, "r").catch(() => null);
  if (!handle) return null;
  try {
    const head = Buffer.alloc(12);
    await handle.read(head, 0, 12, 0);
    if (!head.subarray(0, 8).equals(SEGMENT_MAGIC)) return null;
    const length = head.readUInt32BE(8);
    if (length > 16 << 20) return null;
    const json = Buffer.alloc(length);
    await handle.read(json, 0, length, 12);
    return JSON.parse(json.toString("utf8")) as SegmentHeader;
  } catch {
    return null;
  } finally {
    await handle.close();
  }
}

export async function redoCoverage(store: Mailstore, options: { withTimes?: boolean } = {}): Promise<RedoCoverage> {
  const listed = await listSegments(store.redoArchivePath);
  const segments: ArchivedSegment[] = [];
  for (const s of listed) {
    const header = options.withTimes ? await readSegmentHeader(path.join(store.redoArchivePath, s.name)) : null;
    segments.push({ ...s, firstAt: header?.firstAt ?? null, lastAt: header?.lastAt ?? null });
  }
  const { rows } = await store.pool.query<{ first: number | null; last: number | null; first_at: Date | null; last_at: Date | null }>(
    "SELECT min(seq) AS first, max(seq) AS last, min(at) AS first_at, max(at) AS last_at FROM mailstore.redo_log",
  );
  const log = rows[0];
  return {
    archive: { segments, lastArchivedSeq: await lastArchivedSeq(store.pool) },
    currentLog:
      log?.first != null ? { firstSeq: log.first, lastSeq: log.last!, firstAt: log.first_at!.toISOString(), lastAt: log.last_at!.toISOString() } : null,
  };
}
