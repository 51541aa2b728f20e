/**
 * Runs `work` on each item, at most `limit` at a time, started in the items' order. After the
 * first failure nothing new starts; the call waits for the work still running (so a caller that
 * cleans up after a failure never races it), then throws that first failure.
 */
export async function eachLimited<T>(items: Iterable<T>, limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`eachLimited needs a limit of at least 1, not ${limit}`);
  const source = items[Symbol.iterator]();
  let started = 0;
  let failure: { error: unknown } | null = null;
  const lane = async () => {
    while (!failure) {
      const next = source.next();
      if (next.done) return;
      try {
        await work(next.value, started++);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: limit }, lane));
  if (failure) throw (failure as { error: unknown }).error;
}

/**
 * eachLimited for work that holds each item's bytes whole (reading a file back, sending it): the
 * items up to `largeBytes` `limit` at a time, then the larger ones one at a time, so that memory
 * holds at most one large item. `index` is the item's place in `items`.
 */
export async function eachBySize<T extends { size: number }>(items: T[], limit: number, largeBytes: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  const placed = items.map((item, index) => ({ item, index }));
  await eachLimited(
    placed.filter((p) => !(p.item.size > largeBytes)), // a size that is no number counts as small
    limit,
    (p) => work(p.item, p.index),
  );
  await eachLimited(
    placed.filter((p) => p.item.size > largeBytes),
    1,
    (p) => work(p.item, p.index),
  );
}

/** Waits for every promise to settle (no work left running), then throws the first rejection in `promises`' order, if any. */
export async function settleAll(promises: Promise<unknown>[]): Promise<void> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((s) => s.status === "rejected");
  if (failed) throw failed.reason;
}
