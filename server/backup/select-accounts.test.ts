import { describe, expect, it } from "vitest";
import { batchAccounts, selectAccounts, type Candidate } from "./select-accounts.ts";

const day = (n: number) => new Date(Date.UTC(2026, 10, n));
const accounts: Candidate[] = [
  { accountId: "a", email: "ann@example.com", lastFullAt: day(3) },
  { accountId: "b", email: "bob@example.com", lastFullAt: day(1) },
  { accountId: "c", email: "cy@example.com", lastFullAt: null },
  { accountId: "d", email: "dee@example.com", lastFullAt: day(2) },
  { accountId: "e", email: "eve@example.com", lastFullAt: day(5) },
  { accountId: "f", email: "fay@example.com", lastFullAt: day(4) },
  { accountId: "g", email: "gus@example.com", lastFullAt: null },
];

const summary = (s: { accountId: string; reason: string }[]) => s.map((x) => `${x.accountId}:${x.reason}`);

describe("selectAccounts", () => {
  it("takes every account for a full backup, or exactly the ones asked for", () => {
    expect(selectAccounts(accounts, { kind: "full" }).map((s) => s.accountId)).toEqual(["a", "b", "c", "d", "e", "f", "g"]);
    expect(summary(selectAccounts(accounts, { kind: "full", requested: ["EVE@example.com", "bob@example.com"] }))).toEqual(["b:requested", "e:requested"]);
  });

  it("gives an incremental's fulls only to accounts that never had one", () => {
    expect(summary(selectAccounts(accounts, { kind: "incremental" }))).toEqual(["c:no full backup yet", "g:no full backup yet"]);
  });

  it("auto-groups: never-backed-up accounts plus the oldest 1/N", () => {
    expect(summary(selectAccounts(accounts, { kind: "auto", groups: 3, throttle: false }))).toEqual([
      "c:never backed up",
      "g:never backed up",
      "b:oldest full backup (1/3 per run)",
      "d:oldest full backup (1/3 per run)",
      "a:oldest full backup (1/3 per run)",
    ]);
  });

  it("throttles an auto-grouped run to ceil(total/N), never-backed-up first", () => {
    expect(summary(selectAccounts(accounts, { kind: "auto", groups: 3, throttle: true }))).toEqual(["c:never backed up", "g:never backed up", "b:oldest full backup (1/3 per run)"]);
  });

  it("covers every account within N auto-grouped runs", () => {
    let state = accounts.map((a) => ({ ...a }));
    const seen = new Set<string>();
    for (let run = 0; run < 3; run++) {
      const picked = selectAccounts(state, { kind: "auto", groups: 3, throttle: true });
      for (const p of picked) seen.add(p.accountId);
      state = state.map((a) => (picked.some((p) => p.accountId === a.accountId) ? { ...a, lastFullAt: day(10 + run) } : a));
    }
    expect(seen.size).toBe(accounts.length);
  });
});

describe("batchAccounts", () => {
  it("keeps at least a few batches per worker slot and caps the batch size", () => {
    expect(batchAccounts([1, 2, 3], 4)).toEqual([[1], [2], [3]]);
    expect(batchAccounts(Array.from({ length: 1000 }, (_, i) => i), 4).map((b) => b.length)).toEqual(Array(40).fill(25));
    expect(batchAccounts([], 4)).toEqual([]);
  });

  it("puts accounts unchanged since their last full in fewer, larger batches after the others", () => {
    const accounts = Array.from({ length: 1000 }, (_, i) => i);
    const light = (i: number) => i >= 100;
    const batches = batchAccounts(accounts, 4, { light });
    expect(batches.map((b) => b.length)).toEqual([...Array(14).fill(7), 2, ...Array(9).fill(100)]);
    expect(batches.flat().sort((a, b) => a - b)).toEqual(accounts);
    expect(batches.slice(0, 15).flat().every((i) => !light(i))).toBe(true);
    // Few light accounts still go to every slot.
    expect(batchAccounts([1, 2, 3, 4, 5, 6, 7, 8], 4, { light: () => true })).toEqual([[1, 2], [3, 4], [5, 6], [7, 8]]);
  });
});
