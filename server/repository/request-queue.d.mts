/** Types of request-queue.mjs. */
export function requestQueue<R extends { op: string }>(options: { atOnce: number; alone: ReadonlySet<string>; serve(request: R): Promise<void> }): { push(request: R): void };
