import { describe, expect, it } from "vitest";
import type { AccountPlan } from "./plan-restore.ts";
import { accountJobs } from "./run-restore.ts";

const account = (mode: AccountPlan["target"]["mode"], items?: number) =>
  ({ target: { mode, email: "x@example.com" }, snapshot: items === undefined ? null : { session: "full-1", changeNumber: 1, lastRedoSeq: 1, snapshotAt: "", items } }) as AccountPlan;
const plan = (...accounts: AccountPlan[]) => ({ accounts });
const many = (n: number, mode: AccountPlan["target"]["mode"] = "in-place", items = 50) => Array.from({ length: n }, () => account(mode, items));

describe("accountJobs", () => {
  it("gives each account a job of its own while the run has 8 or fewer", () => {
    expect(accountJobs(plan(...many(8)))).toEqual(Array.from({ length: 8 }, (_, index) => ({ index, count: 1 })));
  });

  it("batches accounts restored in place so the run makes at least 8 jobs, 16 accounts at most each", () => {
    expect(accountJobs(plan(...many(20))).map((j) => j.count)).toEqual(Array(10).fill(2));
    expect(accountJobs(plan(...many(9))).map((j) => j.count)).toEqual(Array(9).fill(1));
    expect(accountJobs(plan(...many(125))).length).toBeGreaterThanOrEqual(8);
    const big = accountJobs(plan(...many(1000)));
    expect(big.every((j) => j.count === 16 || j === big.at(-1))).toBe(true);
    expect(big.reduce((n, j) => n + j.count, 0)).toBe(1000);
    expect(big.map((j) => j.index)).toEqual(big.map((_, i) => i * 16));
  });

  it("keeps copies and scratch mailboxes alone and in plan order", () => {
    const jobs = accountJobs(plan(...many(9), account("copy", 10), ...many(9), account("scratch")));
    expect(jobs.map((j) => [j.index, j.count])).toEqual([[0, 2], [2, 2], [4, 2], [6, 2], [8, 1], [9, 1], [10, 2], [12, 2], [14, 2], [16, 2], [18, 1], [19, 1]]);
  });

  it("cuts a batch before it would load more than 5,000 snapshot rows", () => {
    expect(accountJobs(plan(...many(40, "in-place", 2_000))).map((j) => j.count)).toEqual(Array(20).fill(2));
    expect(accountJobs(plan(...many(20, "in-place", 6_000))).every((j) => j.count === 1)).toBe(true);
    // Built from redo alone (no snapshot) counts as no rows.
    expect(accountJobs(plan(...Array.from({ length: 20 }, () => account("in-place")))).map((j) => j.count)).toEqual(Array(10).fill(2));
  });
});
