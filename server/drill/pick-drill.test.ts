import { describe, expect, it } from "vitest";
import { mailboxDifferences } from "./compare-mailboxes.ts";
import { pickAccounts, pickBetween, type DrillCandidate } from "./pick-drill.ts";

/** A deterministic source (mulberry32), so the draws are the same every run. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MiB = 1024 * 1024;
const candidate = (n: number, sizeMiB: number, lastRedoSeq: number): DrillCandidate => ({ accountId: `a${n}`, email: `u${n}@example.com`, sizeBytes: sizeMiB * MiB, lastRedoSeq });

describe("pickAccounts", () => {
  it("draws N different accounts, and fewer only when there are fewer", () => {
    const all = Array.from({ length: 10 }, (_, i) => candidate(i, 1, i));
    const picked = pickAccounts(all, 3, seeded(1));
    expect(new Set(picked.map((p) => p.accountId)).size).toBe(3);
    expect(pickAccounts(all.slice(0, 2), 3, seeded(1))).toHaveLength(2);
  });

  it("favours large and recently changed mailboxes", () => {
    const small = Array.from({ length: 50 }, (_, i) => candidate(i, 0, i));
    const large = candidate(100, 4096, 25);
    const recent = candidate(101, 0, 1000);
    const wins = { large: 0, recent: 0, other: 0 };
    const random = seeded(7);
    for (let round = 0; round < 2000; round++) {
      const [first] = pickAccounts([...small, large, recent], 1, random);
      if (first === large) wins.large++;
      else if (first === recent) wins.recent++;
      else wins.other++;
    }
    // Uniform would give each about 2000/52 = 38.
    expect(wins.large).toBeGreaterThan(250);
    expect(wins.recent).toBeGreaterThan(50);
  });

  it("picks points from lo to hi, both included", () => {
    const random = seeded(3);
    const seen = new Set(Array.from({ length: 500 }, () => pickBetween(5, 8, random)));
    expect([...seen].sort()).toEqual([5, 6, 7, 8]);
  });
});

describe("mailboxDifferences", () => {
  const item = (id: string, flags = 0) => ({ id, type: "message", parent_id: null, folder_id: "2", date: "2026-12-01 10:00:00.123456+00", size: "10", blob_digest: "ab", flags, tags: "{}", sender: "x", subject: `s${id}`, name: null, metadata: "{}", change_number: id });
  const rows = (items: ReturnType<typeof item>[]) => ({ items, tombstones: [] });

  it("is empty for the same rows and names each difference in words", () => {
    expect(mailboxDifferences(rows([item("1"), item("2")]), rows([item("1"), item("2")]))).toEqual([]);
    expect(mailboxDifferences(rows([item("1"), item("2", 1)]), rows([item("2"), item("3")]))).toEqual([
      'item 1 (message "s1") is missing from the restore',
      'item 2 (message "s2"): flags is 0 in the restore, 1 expected',
      'item 3 (message "s3") is in the restore but not expected',
    ]);
  });
});
