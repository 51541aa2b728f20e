import { describe, expect, it } from "vitest";
import { eachBySize, eachLimited, settleAll } from "./each-limited.ts";

/** A promise the test settles by hand, and whether work has started on it. */
function gate() {
  let open!: () => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

describe("eachLimited", () => {
  it("starts items in order, never more than the limit at once, and waits for all", async () => {
    const gates = Array.from({ length: 7 }, gate);
    const started: number[] = [];
    let running = 0;
    let most = 0;
    const done = eachLimited(gates, 3, async (g, i) => {
      started.push(i);
      most = Math.max(most, ++running);
      await g.promise;
      running--;
    });
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    gates[1]!.open();
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2, 3]);
    for (const g of gates) g.open();
    await done;
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(most).toBe(3);
  });

  it("starts nothing after a failure, waits for the work running, then throws the first failure", async () => {
    const gates = Array.from({ length: 6 }, gate);
    const started: number[] = [];
    const finished: number[] = [];
    let settled = false;
    const done = eachLimited(gates, 2, async (g, i) => {
      started.push(i);
      await g.promise;
      finished.push(i);
    }).finally(() => (settled = true));
    done.catch(() => {});
    await Promise.resolve();
    gates[0]!.fail(new Error("first"));
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false); // item 1 still runs
    gates[1]!.fail(new Error("second"));
    await expect(done).rejects.toThrow("first");
    expect(started).toEqual([0, 1]);
    expect(finished).toEqual([]);
  });

  it("refuses a limit below one", async () => {
    await expect(eachLimited([1], 0, async () => {})).rejects.toThrow(/at least 1/);
  });

  it("eachBySize runs the large items one at a time, after the small ones, each with its place in the list", async () => {
    const items = [{ size: 10 }, { size: 500 }, { size: 20 }, { size: 900 }, { size: 30 }];
    const seen: [number, number][] = [];
    let running = 0;
    let mostLarge = 0;
    await eachBySize(items, 4, 100, async (item, i) => {
      seen.push([i, item.size]);
      running++;
      if (item.size > 100) mostLarge = Math.max(mostLarge, running);
      await new Promise((r) => setImmediate(r));
      running--;
    });
    expect(seen).toEqual([
      [0, 10],
      [2, 20],
      [4, 30],
      [1, 500],
      [3, 900],
    ]);
    expect(mostLarge).toBe(1);
  });

  it("eachBySize takes an item whose size is no number as small, never skipping it", async () => {
    const seen: number[] = [];
    await eachBySize([{ size: Number.NaN }, { size: 500 }], 2, 100, async (_, i) => {
      seen.push(i);
    });
    expect(seen).toEqual([0, 1]);
  });

  it("settleAll waits for every promise, then throws the first rejection in order", async () => {
    const slow = gate();
    let slowDone = false;
    const late = slow.promise.then(() => (slowDone = true));
    const settled = settleAll([Promise.reject(new Error("first")), late, Promise.reject(new Error("second"))]);
    settled.catch(() => {});
    await new Promise((r) => setImmediate(r));
    slow.open();
    await expect(settled).rejects.toThrow("first");
    expect(slowDone).toBe(true);
  });
});
