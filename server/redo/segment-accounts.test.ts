import { describe, expect, it } from "vitest";
import { SegmentAccounts } from "./segment-accounts.ts";
import type { RedoRecord } from "./segment-format.ts";

const record = (seq: number, accountId: string) => ({ seq, accountId }) as RedoRecord;

describe("SegmentAccounts", () => {
  it("knows nothing of a segment until a read of all of it is done", () => {
    const index = new SegmentAccounts();
    const read = index.learn("a.log");
    read.see(record(10, "alice"));
    expect(index.lacks("a.log", ["bob"])).toBe(false);
    read.done();
    expect(index.lacks("a.log", ["bob"])).toBe(true);
    expect(index.lacks("a.log", ["alice"])).toBe(false);
    expect(index.lacks("a.log", undefined)).toBe(false);
  });

  it("skips a segment only when none of the accounts has a record in the range asked for", () => {
    const index = new SegmentAccounts();
    const read = index.learn("a.log");
    for (const [seq, who] of [[10, "alice"], [11, "bob"], [15, "alice"], [20, "carol"]] as const) read.see(record(seq, who));
    read.done();
    expect(index.lacks("a.log", ["alice"], 16)).toBe(true);
    expect(index.lacks("a.log", ["alice"], 15)).toBe(false);
    expect(index.lacks("a.log", ["alice"], 0, 9)).toBe(true);
    expect(index.lacks("a.log", ["alice"], 12, 14)).toBe(false); // between two of hers: read to be sure
    expect(index.lacks("a.log", ["alice", "carol"], 16)).toBe(false);
  });

  it("keeps the most recently used segments only", () => {
    const index = new SegmentAccounts();
    for (let i = 0; i < 600; i++) {
      const read = index.learn(`${i}.log`);
      read.see(record(i, "alice"));
      read.done();
    }
    expect(index.lacks("0.log", ["bob"])).toBe(false); // forgotten
    expect(index.lacks("599.log", ["bob"])).toBe(true);
  });
});
