/**
 * Submits a job to a server's queue and waits for a worker to finish it: on-demand work from
 * the console and the CLI (ping, archive now). Times out with a message naming the missing
 * worker rather than hanging.
 */
import { MailvaultError, ServiceUnavailableError, type ErrorKind } from "../errors.ts";
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
  // after subscribing, so a job that finished first is not waited for. That check can still miss
  // an end: a new event reader starts reading from the stream's newest entry only after one more
  // round trip, and a job that ends in between is seen by neither (a CLI call on a loaded machine
  // waited out its hour that way). So the job's state is also read every second.
  let settled = false;
  const fromEvents = job.waitUntilFinished(serverQueueEvents(server), timeoutMs).then(
    (value: unknown) => ({ finished: true as const, value }),
    () => ({ finished: false as const, value: undefined }),
  );
  const result = await Promise.race([fromEvents, pollFinished(server, job.id!, timeoutMs, () => settled)]);
  settled = true;
  const current = await serverQueue(server).getJob(job.id!).catch(() => undefined);
  if (current?.failedReason && current.finishedOn) throw new JobFailedError(name, current.failedReason);
  if (result.finished) return { jobId: job.id!, result: result.value, ms: Math.round(performance.now() - started) };
  if (current && current.processedOn === undefined) {
    await serverQueue(server).remove(job.id!).catch(() => {});
    throw new ServiceUnavailableError("worker", `no worker for ${server} answered within ${timeoutMs / 1000} s; is \`npm run worker\` running?`);
  }
  throw new ServiceUnavailableError("worker", `${name} on ${server} is still running after ${timeoutMs / 1000} s; see the Jobs page (job ${job.id})`);
}

/** Reads the job's state every second until it ends or `timeoutMs` passes (then reports it unfinished, as the event wait does). */
async function pollFinished(server: string, id: string, timeoutMs: number, stop: () => boolean): Promise<{ finished: boolean; value: unknown }> {
  const deadline = performance.now() + timeoutMs;
  while (!stop() && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, Math.max(0, deadline - performance.now()))).unref());
    if (stop()) break;
    const state = await serverQueue(server).getJobState(id).catch(() => "unknown");
    if (state === "completed") return { finished: true, value: (await serverQueue(server).getJob(id))?.returnvalue };
    if (state === "failed") return { finished: false, value: undefined };
  }
  return { finished: false, value: undefined };
}

/**
 * A job that finds the caller's mistake (the state moved since the console checked) answers
 * with a refusal rather than failing, so the caller gets its 4xx kind and code back.
 */
export interface JobRefusal {
  refused: { kind: ErrorKind; code: string; message: string };
}

/** The worker's side: a MailvaultError of the caller's making becomes the job's answer; anything else fails the job. */
export function refusalOf(error: unknown): JobRefusal {
  if (error instanceof MailvaultError && error.kind !== "unavailable") return { refused: { kind: error.kind, code: error.code, message: error.message } };
  throw error;
}

/** The caller's side: a refusal is thrown again as the error it was. */
export function unlessRefused<T>(result: unknown): T {
  const outcome = result as T | JobRefusal;
  if (outcome && typeof outcome === "object" && "refused" in outcome) throw new MailvaultError(outcome.refused.kind, outcome.refused.code, outcome.refused.message);
  return outcome as T;
}
