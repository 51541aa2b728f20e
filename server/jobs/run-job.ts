/**
 * Submits a job to a server's queue and waits for a worker to finish it: on-demand work from
 * the console and the CLI (ping, archive now). Times out with a message naming the missing
 * worker rather than hanging.
 */
import { MailvaultError, ServiceUnavailableError } from "../errors.ts";
import type { JobInput, JobName } from "./definitions.ts";
import { enqueueJob, serverQueue } from "./queues.ts";

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
  while (performance.now() - started < timeoutMs) {
    const current = await serverQueue(server).getJob(job.id!);
    if (current?.finishedOn) {
      if (current.failedReason) throw new JobFailedError(name, current.failedReason);
      return { jobId: job.id!, result: current.returnvalue, ms: Math.round(performance.now() - started) };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if ((await serverQueue(server).getJob(job.id!))?.processedOn === undefined) {
    await serverQueue(server).remove(job.id!).catch(() => {});
    throw new ServiceUnavailableError("worker", `no worker for ${server} answered within ${timeoutMs / 1000} s; is \`npm run worker\` running?`);
  }
  throw new ServiceUnavailableError("worker", `${name} on ${server} is still running after ${timeoutMs / 1000} s; see the Jobs page (job ${job.id})`);
}
