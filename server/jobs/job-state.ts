/**
 * Whether a job still has work ahead of it in Redis. The sweep of dead sessions and runs asks
 * this before it declares one dead: a job that waits (for a slot, a retry's backoff, its
 * children) is not dead. A job Redis no longer holds, or one that finished, has none left.
 * Errors (Redis unreachable) propagate: then nobody can tell, and the caller must not guess.
 */
import { serverQueue } from "./queues.ts";

const FINISHED = new Set(["completed", "failed", "unknown"]);

export async function hasWorkLeft(server: string, jobId: string): Promise<boolean> {
  const job = await serverQueue(server).getJob(jobId);
  if (!job) return false;
  return !FINISHED.has(await job.getState());
}
