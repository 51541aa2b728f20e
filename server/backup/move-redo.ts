/**
 * Puts into a session the archived redo segments it is responsible for: those holding sequence
 * numbers after the previous completed session's through-seq, up to this session's seal point.
 * Every copy is re-read and verified, and the segments must join without a hole; a hole means
 * redo was lost, and the chain can only restart with a full backup. A segment redo shipping has
 * already put on the target (`redo/<name>`, ship-redo.ts) is not sent again: the session names
 * it (`shipped`), and it is read back and verified there all the same.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import path from "node:path";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { listSegments } from "../redo/archive-redo.ts";
import { readSegment } from "../redo/segment-format.ts";
import { RedoGapError } from "./errors.ts";
import { hashing, shippedSegmentObject, type BackupTarget, type FileEntry } from "./target.ts";

export interface MovedRedo {
  fromSeq: number | null;
  throughSeq: number;
  segments: FileEntry[];
  /** Of those, the segments the session refers to in the target's shipped redo instead of holding. */
  shipped: string[];
  /** Accounts with records in these segments. */
  accountIds: string[];
}

export async function collectRedo(store: Mailstore, target: BackupTarget, label: string, prevThrough: number | null, throughSeq: number): Promise<MovedRedo> {
  if (prevThrough === null) return { fromSeq: null, throughSeq, segments: [], shipped: [], accountIds: [] };
  const wanted = (await listSegments(store.redoArchivePath)).filter((s) => s.lastSeq > prevThrough && s.firstSeq <= throughSeq);
  let expected = prevThrough + 1;
  for (const segment of wanted) {
    if (segment.firstSeq > expected) throw new RedoGapError(expected, segment.firstSeq - 1);
    expected = Math.max(expected, segment.lastSeq + 1);
  }
  if (expected <= throughSeq) throw new RedoGapError(expected, throughSeq);

  const segments: FileEntry[] = [];
  const shipped: string[] = [];
  const accounts = new Set<string>();
  for (const segment of wanted) {
    const relative = `redologs/${segment.name}`;
    const local = path.join(store.redoArchivePath, segment.name);
    const object = shippedSegmentObject(segment.name);
    const there = await target.backend.stat(object);
    let entry: FileEntry;
    const hash = there && there.size === (await stat(local)).size ? await localDigest(local) : null;
    // Referred to only when the shipped object is this very segment, byte for byte.
    if (hash && (await objectDigest(target, object, there!.size)) === hash.sha256) {
      entry = { path: relative, ...hash, object };
      shipped.push(segment.name);
    } else {
      // Streamed: a segment may be 100 MiB (redo carries message bodies).
      entry = await target.streamSessionFile(label, relative, createReadStream(local));
    }
    segments.push(entry);
    // Verify the copy as a restore will read it, and learn whose changes it holds.
    const reader = target.segmentReader(entry.object ?? target.sessionObject(label, relative));
    for await (const read of readSegment(segment.name, reader)) if ("record" in read) accounts.add(read.record.accountId);
  }
  return { fromSeq: prevThrough + 1, throughSeq, segments, shipped, accountIds: [...accounts] };
}

async function localDigest(file: string): Promise<{ sha256: string; size: number }> {
  const hash = hashing();
  await pipeline(createReadStream(file), hash, new Writable({ write: (_chunk, _encoding, done) => done() }));
  return hash.digest();
}

async function objectDigest(target: BackupTarget, object: string, size: number): Promise<string> {
  const hash = createHash("sha256");
  for (let offset = 0; offset < size; offset += 8 << 20) hash.update(await target.backend.read(object, { offset, length: Math.min(8 << 20, size - offset) }));
  return hash.digest("hex");
}
