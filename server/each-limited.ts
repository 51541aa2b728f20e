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
