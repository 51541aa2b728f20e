/**
 * Submits a job to a server's queue and waits for a worker to finish it: on-demand work from
 * the console and the CLI (ping, archive now). Times out with a message naming the missing
 * worker rather than hanging.
 */
import type { EventEmitter } from "node:events";
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
  const ended = await waitForEnd(server, job.id!, timeoutMs);
  const current = await serverQueue(server).getJob(job.id!).catch(() => undefined);
  // A job that failed an attempt and then succeeded keeps that attempt's failedReason: only
  // the state says how it ended.
  if (ended === "failed") throw new JobFailedError(name, current?.failedReason || "the worker gave no reason");
  if (ended === "completed") {
    if (!current) throw new ServiceUnavailableError("redis", `${name} on ${server} finished, but its answer could not be read (job ${job.id})`);
    return { jobId: job.id!, result: current.returnvalue, ms: Math.round(performance.now() - started) };
  }
  if (current && current.processedOn === undefined) {
    await serverQueue(server).remove(job.id!).catch(() => {});
    throw new ServiceUnavailableError("worker", `no worker for ${server} answered within ${timeoutMs / 1000} s; is \`npm run worker\` running?`);
  }
  throw new ServiceUnavailableError("worker", `${name} on ${server} is still running after ${timeoutMs / 1000} s; see the Jobs page (job ${job.id})`);
}

/**
 * How the job ended, or null if it had not within `timeoutMs`. Its state is read when the
 * queue's event stream says it ended, and at least every second: an event can be missed (a new
 * event reader starts at the stream's newest entry one round trip after it is ready, and a job
 * ending in between is seen neither there nor by a single look after subscribing; that is the
 * likely cause of a CLI call on a loaded machine waiting out its hour). The listeners go when
 * the wait does.
 */
async function waitForEnd(server: string, id: string, timeoutMs: number): Promise<"completed" | "failed" | null> {
  const events = serverQueueEvents(server);
  // BullMQ also emits each end under the job's own name (`completed:<id>`), which its types omit:
  // one name per waiter, so many waiters do not pile on one event's listeners.
  const emitter = events as unknown as EventEmitter;
  const names = [`completed:${id}`, `failed:${id}`];
  let signalled = false;
  let wake = () => {};
  const onEvent = () => {
    signalled = true;
    wake();
  };
  for (const name of names) emitter.on(name, onEvent);
  const deadline = performance.now() + timeoutMs;
  /** Until an event comes (or came since the last pause), `ms` passes or `also` settles. */
  const pause = (ms: number, also?: Promise<unknown>) =>
    new Promise<void>((resolve) => {
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        clearTimeout(timer);
        wake = () => {};
        resolve();
      };
      const timer = setTimeout(end, ms);
      wake = end;
      if (signalled) end();
      void also?.then(end, end);
    }).finally(() => (signalled = false));
  try {
    // A reader that is ready sees most ends at once (a new one: each CLI call); a second at most.
    await pause(Math.min(1_000, timeoutMs), events.waitUntilReady());
    for (;;) {
      const state = await serverQueue(server).getJobState(id).catch(() => "unknown");
      if (state === "completed" || state === "failed") return state;
      const left = deadline - performance.now();
      if (left <= 0) return null;
      await pause(Math.min(1_000, left));
    }
  } finally {
    for (const name of names) emitter.off(name, onEvent);
  }
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
