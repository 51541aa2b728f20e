/**
 * What a restore drill restores, chosen at random but weighted: a large mailbox has more that can
 * go wrong, and a recently changed one has redo that no drill has replayed yet. Pure: the
 * candidates and the random source come in as arguments.
 */
export interface DrillCandidate {
  accountId: string;
  email: string;
  sizeBytes: number;
  /** The sequence number of the mailbox's newest change. */
  lastRedoSeq: number;
}

const MiB = 1024 * 1024;

/**
 * `n` accounts without repeats, each drawn with weight (1 + log2(1 + MiB)) × (1 + 3 × recency²),
 * where recency is the mailbox's place, 0 to 1, in the order of last changes (the most recently
 * changed weighs four times the least) (Efraimidis–Spirakis: the
 * n largest keys random^(1/weight)).
 */
export function pickAccounts(candidates: DrillCandidate[], n: number, random: () => number): DrillCandidate[] {
  const byChange = [...candidates].sort((a, b) => a.lastRedoSeq - b.lastRedoSeq);
  const recency = new Map(byChange.map((c, i) => [c.accountId, byChange.length > 1 ? i / (byChange.length - 1) : 1]));
  const keyed = candidates.map((c) => {
    const weight = (1 + Math.log2(1 + c.sizeBytes / MiB)) * (1 + 3 * recency.get(c.accountId)! ** 2);
    return { c, key: Math.pow(Math.max(random(), Number.MIN_VALUE), 1 / weight) };
  });
  return keyed.sort((a, b) => b.key - a.key).slice(0, n).map((k) => k.c);
}

/** A whole number from `lo` to `hi`, both included. */
export function pickBetween(lo: number, hi: number, random: () => number): number {
  return lo + Math.floor(random() * (hi - lo + 1));
}
