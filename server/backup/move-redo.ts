/**
 * Puts into a session the archived redo segments it is responsible for: those holding sequence
 * numbers after the previous completed session's through-seq, up to this session's seal point.
 * Every copy is re-read and verified, and the segments must join without a hole; a hole means
 * redo was lost, and the chain can only restart with a full backup.
 */
import { createReadStream } from "node:fs";
import path from "node:path";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { listSegments } from "../redo/archive-redo.ts";
import { readSegment } from "../redo/segment-format.ts";
import { RedoGapError } from "./errors.ts";
import type { BackupTarget, FileEntry } from "./target.ts";

export interface MovedRedo {
  fromSeq: number | null;
  throughSeq: number;
  segments: FileEntry[];
  /** Accounts with records in these segments. */
  accountIds: string[];
}

export async function collectRedo(store: Mailstore, target: BackupTarget, label: string, prevThrough: number | null, throughSeq: number): Promise<MovedRedo> {
  if (prevThrough === null) return { fromSeq: null, throughSeq, segments: [], accountIds: [] };
  const wanted = (await listSegments(store.redoArchivePath)).filter((s) => s.lastSeq > prevThrough && s.firstSeq <= throughSeq);
  let expected = prevThrough + 1;
  for (const segment of wanted) {
    if (segment.firstSeq > expected) throw new RedoGapError(expected, segment.firstSeq - 1);
    expected = Math.max(expected, segment.lastSeq + 1);
  }
  if (expected <= throughSeq) throw new RedoGapError(expected, throughSeq);

  const segments: FileEntry[] = [];
  const accounts = new Set<string>();
  for (const segment of wanted) {
    const relative = `redologs/${segment.name}`;
    // Streamed: a segment may be 100 MiB (redo carries message bodies).
    segments.push(await target.streamSessionFile(label, relative, createReadStream(path.join(store.redoArchivePath, segment.name))));
    // Verify the copy as a restore will read it, and learn whose changes it holds.
    for await (const entry of readSegment(segment.name, target.sessionFileReader(label, relative))) if ("record" in entry) accounts.add(entry.record.accountId);
  }
  return { fromSeq: prevThrough + 1, throughSeq, segments, accountIds: [...accounts] };
}
