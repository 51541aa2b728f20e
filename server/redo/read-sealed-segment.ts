/**
 * One sealed segment's records that a reader wants, wherever the segment is (the server's
 * archive, a backup session): read only where they lie when that is known (segment-accounts.ts),
 * else whole, learning on the way where every account's records lie for the readers after.
 */
import type { RedoRecord, SegmentFile, SegmentHeader } from "./segment-format.ts";
import { readSegmentBatches, readSegmentSpans } from "./segment-format.ts";
import { segmentAccounts } from "./segment-accounts.ts";

export interface SealedRead {
  /** The accounts whose records are wanted, "any" for every account's (one sequence number, say), undefined when not by account. */
  accounts: readonly string[] | "any" | undefined;
  fromSeq?: number;
  toSeq?: number;
  keep(record: RedoRecord): boolean;
  /** Whether the segment can hold a wanted record at all, from its header (a whole read stops if not). */
  headerCanMatch?(header: SegmentHeader): boolean;
  withBlobs?: boolean;
}

/** Where the wanted records lie in the segment, waiting for a whole read of it under way; null when unknown. */
async function knownSpans(where: string, read: SealedRead) {
  if (!read.accounts) return null;
  const known = segmentAccounts.spans(where, read.accounts, read.fromSeq, read.toSeq);
  if (known) return known;
  // Another reader's whole read of it may be under way (a group restore starts several at once).
  await segmentAccounts.reading(where);
  return segmentAccounts.spans(where, read.accounts, read.fromSeq, read.toSeq);
}

/**
 * `where` names the segment in the cache (its path, or its object on a target); `open` gives its
 * file only when it must be read.
 */
export async function* readSealedSegment(name: string, where: string, open: () => Promise<SegmentFile & { close?(): Promise<void> }>, read: SealedRead): AsyncGenerator<RedoRecord[]> {
  const known = await knownSpans(where, read);
  if (known?.length === 0) return;
  const file = await open();
  try {
    if (known) {
      for await (const records of readSegmentSpans(name, file, known, read)) {
        const kept = records.filter(read.keep);
        if (kept.length) yield kept;
      }
      return;
    }
    const learning = segmentAccounts.learn(where);
    try {
      for await (const batch of readSegmentBatches(name, file, read)) {
        if ("header" in batch) {
          if (read.headerCanMatch && !read.headerCanMatch(batch.header)) return;
          continue;
        }
        const kept: RedoRecord[] = [];
        for (const entry of batch.entries) {
          learning.see(entry.record, entry.at, entry.length);
          if (read.keep(entry.record)) kept.push(entry.record);
        }
        if (kept.length) yield kept;
      }
      // Read to its verified end: where its records lie is known from now on.
      learning.done();
    } finally {
      learning.close();
    }
  } finally {
    await file.close?.();
  }
}
