import { describe, expect, it } from "vitest";
import { SegmentAccounts } from "./segment-accounts.ts";
import type { RedoRecord } from "./segment-format.ts";

const record = (seq: number, accountId: string) => ({ seq, accountId }) as RedoRecord;

/** A segment read whole: records of 100 bytes each, one after the other. */
function readWhole(index: SegmentAccounts, segment: string, records: [number, string][]) {
  const read = index.learn(segment);
  records.forEach(([seq, who], i) => read.see(record(seq, who), 100 + i * 100, 100));
  read.done();
}

describe("SegmentAccounts", () => {
  it("knows nothing of a segment until a read of all of it is done", () => {
    const index = new SegmentAccounts();
    const read = index.learn("a.log");
    read.see(record(10, "alice"), 100, 50);
    expect(index.spans("a.log", ["bob"])).toBeNull();
    read.done();
    expect(index.spans("a.log", ["bob"])).toEqual([]);
    expect(index.spans("a.log", ["alice"])).toEqual([{ at: 100, length: 50 }]);
    expect(index.spans("a.log", undefined)).toBeNull();
  });

  it("gives the places of the accounts' records in the range asked for, in file order", () => {
    const index = new SegmentAccounts();
    readWhole(index, "a.log", [[10, "alice"], [11, "bob"], [15, "alice"], [20, "carol"]]);
    expect(index.spans("a.log", ["alice"], 16)).toEqual([]);
    expect(index.spans("a.log", ["alice"], 15)).toEqual([{ at: 300, length: 100 }]);
    expect(index.spans("a.log", ["alice"], 0, 9)).toEqual([]);
    expect(index.spans("a.log", ["carol", "alice"])).toEqual([100, 300, 400].map((at) => ({ at, length: 100 })));
  });

  it("keeps the most recently used segments, up to its limit of records", () => {
    const index = new SegmentAccounts();
    const many = Array.from({ length: 450_000 }, (_, i) => [i, "alice"] as [number, string]);
    readWhole(index, "0.log", many);
    readWhole(index, "1.log", many);
    expect(index.spans("0.log", ["bob"])).toEqual([]); // 0 is now the most recently used
    readWhole(index, "2.log", many); // 1.35 million: the least recently used goes
    expect(index.spans("1.log", ["bob"])).toBeNull();
    expect(index.spans("0.log", ["bob"])).toEqual([]);
    expect(index.spans("2.log", ["bob"])).toEqual([]);
  });
});

describe("SegmentAccounts.scanOnce", () => {
  it("has readers at the same time share one scan, and scans no more once the places are known", async () => {
    const index = new SegmentAccounts();
    let scans = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const scan = async (see: (r: RedoRecord, at: number, length: number) => void) => {
      scans++;
      await gate;
      see(record(1, "alice"), 100, 10);
      see(record(2, "bob"), 110, 10);
    };
    const readers = [index.scanOnce("a.log", scan), index.scanOnce("a.log", scan), index.scanOnce("a.log", scan)];
    expect(index.spans("a.log", ["alice"])).toBeNull();
    release();
    await Promise.all(readers);
    expect(scans).toBe(1);
    expect(index.spans("a.log", ["bob"])).toEqual([{ at: 110, length: 10 }]);
    await index.scanOnce("a.log", scan);
    expect(scans).toBe(1);
  });

  it("fails every waiter when the scan fails, learns nothing, and scans again on the next call", async () => {
    const index = new SegmentAccounts();
    const damaged = async (see: (r: RedoRecord, at: number, length: number) => void) => {
      see(record(1, "alice"), 100, 10);
      throw new Error("a.log at byte 110: record 2: checksum mismatch");
    };
    const results = await Promise.allSettled([index.scanOnce("a.log", damaged), index.scanOnce("a.log", damaged)]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(index.spans("a.log", ["alice"])).toBeNull();
    await index.scanOnce("a.log", async (see) => see(record(1, "alice"), 100, 10));
    expect(index.spans("a.log", ["alice"])).toEqual([{ at: 100, length: 10 }]);
  });
});
