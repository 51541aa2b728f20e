/**
 * Where each account's records lie in a sealed redo segment (sequence number, byte offset and
 * length of each), learned by reading the segment through once. A group or server restore reads
 * the same segments for each of its accounts; with this, each reads only its own account's
 * records (readSegmentSpans), or skips a segment that holds none in the range wanted. Readers by
 * account that come at once share one scan (`scanOnce`), which reads for the index alone: it
 * does not wait on any reader's consumer, so no reader waits on another's replay (a reader that
 * read the segment whole for its own records, with the others waiting for it, had kept a group
 * restore's first accounts waiting 2.4 s). Sealed segments never change (the archiver writes each
 * under a new name, and a session's files are fixed once published), so what was learned stays
 * true. Kept for the most recently used segments, up to MAX_RECORDS records in all.
 */
import type { RedoRecord } from "./segment-format.ts";

/** 24 bytes a record: 1,000,000 records hold 24 MiB of the worker's memory. */
const MAX_RECORDS = 1_000_000;

/** Per account: sequence number, offset and length of each record, flat, in file order. */
type Places = Map<string, Float64Array>;

export interface RecordSpan {
  at: number;
  length: number;
}

export class SegmentAccounts {
  private readonly known = new Map<string, { places: Places; records: number }>();
  private readonly scans = new Map<string, Promise<void>>();
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
   * Makes sure the segment's places are known: `scan` reads it through, calling `see` for each
   * record, unless they are known already or a scan of it is under way (then this waits for that
   * one). A scan that fails fails its waiters too (a damaged segment is everyone's error); the
   * next call scans again.
   */
  async scanOnce(segment: string, scan: (see: (record: RedoRecord, at: number, length: number) => void) => Promise<void>): Promise<void> {
    if (this.known.has(segment)) return;
    let running = this.scans.get(segment);
    if (!running) {
      running = (async () => {
        const learning = this.learn(segment);
        await scan(learning.see);
        learning.done();
      })().finally(() => this.scans.delete(segment));
      this.scans.set(segment, running);
    }
    await running;
  }

  /** Watches a read of the whole segment, in order: `see` each record, and `done()` once every record went past. */
  learn(segment: string): { see(record: RedoRecord, at: number, length: number): void; done(): void } {
    const growing = new Map<string, number[]>();
    let records = 0;
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
