/**
 * Where each account's records lie in a sealed redo segment (its first and last sequence number
 * there), learned the first time a reader goes through the whole segment. A group or server
 * restore reads the same segments once per account; with this, every reader after the first
 * skips a segment that holds nothing of its account in the range it wants, on one lookup instead
 * of a read. Sealed segments never change (the archiver writes each under a new name, and a
 * session's files are fixed once published), so what was learned stays true. Kept for the most
 * recently used MAX_SEGMENTS segments of the process.
 */
import type { RedoRecord } from "./segment-format.ts";

const MAX_SEGMENTS = 512;

type Ranges = Map<string, [first: number, last: number]>;

export class SegmentAccounts {
  private readonly known = new Map<string, Ranges>();

  /** True when the segment is known to hold no record of these accounts from `fromSeq` to `toSeq`. */
  lacks(segment: string, accountIds: readonly string[] | undefined, fromSeq = -Infinity, toSeq = Infinity): boolean {
    const ranges = this.known.get(segment);
    if (!ranges || !accountIds) return false;
    this.known.delete(segment); // most recently used last
    this.known.set(segment, ranges);
    return accountIds.every((id) => {
      const range = ranges.get(id);
      return !range || range[1] < fromSeq || range[0] > toSeq;
    });
  }

  /** Watches a read of the whole segment, in order; `done()` once every record went past `see`. */
  learn(segment: string): { see(record: RedoRecord): void; done(): void } {
    const ranges: Ranges = new Map();
    return {
      see: (record) => {
        const range = ranges.get(record.accountId);
        if (range) range[1] = record.seq;
        else ranges.set(record.accountId, [record.seq, record.seq]);
      },
      done: () => {
        this.known.delete(segment);
        this.known.set(segment, ranges);
        while (this.known.size > MAX_SEGMENTS) this.known.delete(this.known.keys().next().value!);
      },
    };
  }
}

/** The process's one index: archive segments by path, session segments by their object's name. */
export const segmentAccounts = new SegmentAccounts();
