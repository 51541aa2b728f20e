/**
 * Where each account's records lie in a sealed redo segment (sequence number, byte offset and
 * length of each), learned the first time a reader goes through the whole segment. A group or
 * server restore reads the same segments once per account; with this, every reader after the
 * first reads only its own account's records (readSegmentSpans), or skips the segment when it
 * holds none in the range wanted; one that comes while the first read runs waits for it rather
 * than read the segment whole too. Sealed segments never change (the archiver writes each under a
 * new name, and a session's files are fixed once published), so what was learned stays true.
 * Kept for the most recently used segments, up to MAX_RECORDS records in all.
 */
import type { RedoRecord } from "./segment-format.ts";

/** 24 bytes a record: 1,000,000 records hold 24 MiB of the worker's memory. */
const MAX_RECORDS = 1_000_000;
/** How long a reader waits for another's whole read of a segment before reading it itself. */
const READ_WAIT_MS = 2_000;

/** Per account: sequence number, offset and length of each record, flat, in file order. */
type Places = Map<string, Float64Array>;

export interface RecordSpan {
  at: number;
  length: number;
}

export class SegmentAccounts {
  private readonly known = new Map<string, { places: Places; records: number }>();
  private readonly readers = new Map<string, Promise<void>>();
  private records = 0;

  /**
   * The records of these accounts (of any account: `"any"`) from `fromSeq` to `toSeq` in this
   * segment, in file order (an empty list: none); null when the segment has not been read whole
   * yet, or no accounts are named.
   */
  spans(segment: string, accountIds: readonly string[] | "any" | undefined, fromSeq = -Infinity, toSeq = Infinity): RecordSpan[] | null {
    const entry = this.known.get(segment);
    if (!entry || !accountIds) return null;
    this.known.delete(segment); // most recently used last
    this.known.set(segment, entry);
    const spans: RecordSpan[] = [];
    const ids = accountIds === "any" ? entry.places.keys() : new Set(accountIds);
    for (const id of ids) {
      const flat = entry.places.get(id) ?? new Float64Array(0);
      for (let i = 0; i < flat.length; i += 3) if (flat[i]! >= fromSeq && flat[i]! <= toSeq) spans.push({ at: flat[i + 1]!, length: flat[i + 2]! });
    }
    return accountIds.length === 1 ? spans : spans.sort((a, b) => a.at - b.at);
  }

  /**
   * Waits, at most `maxMs`, for a whole read of the segment under way (learned or not). The wait
   * is bounded: the waiter holds database connections, and the read it waits for ends only when
   * its own consumer has replayed it all.
   */
  async reading(segment: string, maxMs = READ_WAIT_MS): Promise<void> {
    const read = this.readers.get(segment);
    if (!read) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([read, new Promise<void>((resolve) => (timer = setTimeout(resolve, maxMs)))]);
    clearTimeout(timer);
  }

  /**
   * Watches a read of the whole segment, in order: `see` each record, `done()` once every record
   * went past, and `close()` when the read ends, done or not (readers waiting on it go on).
   */
  learn(segment: string): { see(record: RedoRecord, at: number, length: number): void; done(): void; close(): void } {
    const growing = new Map<string, number[]>();
    let records = 0;
    let settle!: () => void;
    const read = new Promise<void>((resolve) => (settle = resolve));
    if (!this.readers.has(segment)) this.readers.set(segment, read);
    return {
      see: (record, at, length) => {
        const flat = growing.get(record.accountId);
        if (flat) flat.push(record.seq, at, length);
        else growing.set(record.accountId, [record.seq, at, length]);
        records++;
      },
      done: () => {
        const places: Places = new Map([...growing].map(([id, flat]) => [id, Float64Array.from(flat)]));
        this.forget(segment);
        this.known.set(segment, { places, records });
        this.records += records;
        while (this.records > MAX_RECORDS && this.known.size > 1) this.forget(this.known.keys().next().value!);
      },
      close: () => {
        if (this.readers.get(segment) === read) this.readers.delete(segment);
        settle();
      },
    };
  }

  private forget(segment: string): void {
    const entry = this.known.get(segment);
    if (!entry) return;
    this.records -= entry.records;
    this.known.delete(segment);
  }
}

/** The process's one index: archive segments by path, session segments by their object's name. */
export const segmentAccounts = new SegmentAccounts();
