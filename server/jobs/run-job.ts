/**
 * Submits a job to a server's queue and waits for a worker to finish it: on-demand work from
 * the console and the CLI (ping, archive now). Times out with a message naming the missing
 * worker rather than hanging.
 */
import { MailvaultError, ServiceUnavailableError } from "../errors.ts";
import type { JobInput, JobName } from "./definitions.ts";
import { enqueueJob, serverQueue, serverQueueEvents } from "./queues.ts";

export class JobFailedError extends MailvaultError {
  constructor(name: string, reason: string) {
    super("unavailable", "job_failed", `${name} failed: ${reason}`);
  }
}

export async function runJob<N extends JobName>(server: string, name: N, data: JobInput<N>, timeoutMs = 10_000): Promise<{ jobId: string; result: unknown; ms: number }> {
  const started = performance.now();
  const job = await enqueueJob(server, name, data).catch((error: Error) => {
    if (error instanceof MailvaultError) throw error;
    throw new ServiceUnavailableError("redis", error.message);
  });
  // Woken by the queue's event stream when the job completes or fails; BullMQ also checks once
  // after subscribing, so a job that finished first is not waited for.
  const result = await job.waitUntilFinished(serverQueueEvents(server), timeoutMs).then(
    (value: unknown) => ({ finished: true as const, value }),
    () => ({ finished: false as const, value: undefined }),
  );
  const current = await serverQueue(server).getJob(job.id!).catch(() => undefined);
  if (current?.failedReason && current.finishedOn) throw new JobFailedError(name, current.failedReason);
  if (result.finished) return { jobId: job.id!, result: result.value, ms: Math.round(performance.now() - started) };
  if (current && current.processedOn === undefined) {
    await serverQueue(server).remove(job.id!).catch(() => {});
    throw new ServiceUnavailableError("worker", `no worker for ${server} answered within ${timeoutMs / 1000} s; is \`npm run worker\` running?`);
  }
  throw new ServiceUnavailableError("worker", `${name} on ${server} is still running after ${timeoutMs / 1000} s; see the Jobs page (job ${job.id})`);
}
