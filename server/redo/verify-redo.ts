/**
 * `redodump --quiet`: reads every archived segment and the current log without printing records,
 * and checks that each sequence number from the first to the last appears exactly once, as a
 * record or as a void (a number whose transaction rolled back). Reports damage with the file and
 * byte offset, and missing numbers as ranges.
 */
import { open } from "node:fs/promises";
import path from "node:path";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { horizon, lastArchivedSeq, listSegments, lockArchiveShared } from "./archive-redo.ts";
import { readCurrentLog } from "./read-redo.ts";
import { readSegment, SegmentCorruptError } from "./segment-format.ts";

export interface RedoProblem {
  kind: "damaged" | "gap" | "duplicate" | "out-of-order";
  file?: string;
  offset?: number;
  from?: number;
  to?: number;
  message: string;
}

export interface RedoVerification {
  ok: boolean;
  segments: number;
  records: number;
  voids: number;
  firstSeq: number | null;
  lastSeq: number | null;
  currentLog: { records: number; firstSeq: number | null; lastSeq: number | null; pending: number };
  problems: RedoProblem[];
}

export async function verifyRedo(store: Mailstore): Promise<RedoVerification> {
  const release = await lockArchiveShared(store);
  try {
    return await verifyLocked(store);
  } finally {
    await release();
  }
}

async function verifyLocked(store: Mailstore): Promise<RedoVerification> {
  const report: RedoVerification = {
    ok: true,
    segments: 0,
    records: 0,
    voids: 0,
    firstSeq: null,
    lastSeq: null,
    currentLog: { records: 0, firstSeq: null, lastSeq: null, pending: 0 },
    problems: [],
  };
  let expected: number | null = null; // the next number the stream must account for
  const account = (from: number, to: number, where: string) => {
    report.firstSeq ??= from;
    if (expected !== null && from > expected) {
      report.problems.push({ kind: "gap", from: expected, to: from - 1, message: `gap in redo sequence: missing ${expected} through ${from - 1} (before ${where})` });
    } else if (expected !== null && from < expected) {
      report.problems.push({ kind: "duplicate", from, to: Math.min(to, expected - 1), message: `sequence ${from} through ${Math.min(to, expected - 1)} appears twice (${where})` });
    }
    expected = Math.max(expected ?? 0, to + 1);
    report.lastSeq = expected - 1;
  };

  for (const segment of await listSegments(store.redoArchivePath)) {
    report.segments++;
    const file = await open(path.join(store.redoArchivePath, segment.name), "r");
    try {
      let next = segment.firstSeq;
      let voids: [number, number][] = [];
      for await (const entry of readSegment(segment.name, file)) {
        if ("header" in entry) {
          if (entry.header.firstSeq !== segment.firstSeq || entry.header.lastSeq !== segment.lastSeq) {
            throw new SegmentCorruptError(segment.name, 12, "header range differs from the file name");
          }
          voids = entry.header.voids;
          report.voids += voids.reduce((n, [a, b]) => n + b - a + 1, 0);
          account(segment.firstSeq, segment.firstSeq - 1, segment.name); // checks the join with the previous segment
          continue;
        }
        const { seq } = entry.record;
        while (voids[0] && voids[0][0] <= next && next <= voids[0][1]) next = voids.shift()![1] + 1;
        if (seq !== next) {
          report.problems.push({ kind: "out-of-order", file: segment.name, from: next, to: seq, message: `${segment.name}: expected sequence ${next}, found ${seq}` });
        }
        report.records++;
        next = seq + 1;
      }
      account(segment.firstSeq, segment.lastSeq, segment.name);
    } catch (error) {
      if (!(error instanceof SegmentCorruptError)) throw error;
      // Named with the archive's path, so the message alone says which file to look at.
      report.problems.push({ kind: "damaged", file: error.file, offset: error.offset, message: `${path.join(store.redoArchivePath, error.file)} is damaged at byte ${error.offset}: ${error.reason}` });
      account(segment.firstSeq, segment.lastSeq, segment.name);
    } finally {
      await file.close();
    }
  }

  // The current log. A number missing from the table was either drawn by a transaction still
  // running (it may yet appear: "pending") or by one that rolled back (a void). The archiver's
  // horizon tells them apart: below it, nothing can appear any more.
  const archived = Math.max(report.lastSeq ?? 0, await lastArchivedSeq(store.pool));
  const client = await store.pool.connect();
  const settled = await horizon(client, 5_000).finally(() => client.release());
  let previous = archived;
  for await (const record of readCurrentLog(store, archived, {}, false)) {
    report.currentLog.records++;
    report.currentLog.firstSeq ??= record.seq;
    report.currentLog.lastSeq = record.seq;
    const hole = record.seq - previous - 1;
    if (hole > 0) {
      if (settled !== null && record.seq - 1 <= settled) report.voids += hole;
      else report.currentLog.pending += hole;
    }
    report.firstSeq ??= record.seq - Math.max(hole, 0);
    expected = record.seq + 1;
    report.lastSeq = record.seq;
    previous = record.seq;
  }
  report.ok = report.problems.length === 0;
  return report;
}
