/**
 * One sealed segment's records that a reader wants, wherever the segment is (the server's
 * archive, a backup session): by account, only where they lie (segment-accounts.ts); otherwise
 * whole, learning on the way where every account's records lie for the readers after.
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

/**
 * `where` names the segment in the cache (its path, or its object on a target); `open` gives its
 * file only when it must be read. A reader by account first has the segment's places learned
 * (one scan, shared with the readers at the same time), then reads only its own records.
 */
export async function* readSealedSegment(name: string, where: string, open: () => Promise<SegmentFile & { close?(): Promise<void> }>, read: SealedRead): AsyncGenerator<RedoRecord[]> {
  if (read.accounts) {
    await segmentAccounts.scanOnce(where, async (see) => {
      const file = await open();
      try {
        for await (const batch of readSegmentBatches(name, file, { withBlobs: false })) {
          if ("header" in batch) continue;
          for (const entry of batch.entries) see(entry.record, entry.at, entry.length);
        }
      } finally {
        await file.close?.();
      }
    });
  }
  // Known unless the scan's places were already dropped again to make room for others'.
  const known = read.accounts ? segmentAccounts.spans(where, read.accounts, read.fromSeq, read.toSeq) : null;
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
    await file.close?.();
  }
}
