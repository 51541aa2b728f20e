/**
 * One BullMQ queue per mailbox server, named `mailvault.<server>`; work that touches a server's
 * files runs on a worker for that server's queue. Every key is under MAILVAULT_QUEUE_PREFIX, so a
 * test run's queues never meet another run's.
 */
import { Queue, QueueEvents } from "bullmq";
import { config } from "../config.ts";
import { InvalidInputError } from "../errors.ts";
import { jobDefinitions, retryOptions, type JobDefinition, type JobInput, type JobName } from "./definitions.ts";
import { bullmqConnection, redisOptions } from "./redis.ts";

export function queueName(server: string): string {
  return `mailvault.${server}`;
}

export function queuePrefix(): string {
  return config().MAILVAULT_QUEUE_PREFIX;
}

const holder = globalThis as unknown as { __mailvaultQueues?: Map<string, Queue>; __mailvaultQueueEvents?: Map<string, QueueEvents> };

export function serverQueue(server: string): Queue {
  holder.__mailvaultQueues ??= new Map();
  let queue = holder.__mailvaultQueues.get(server);
  if (!queue) {
    queue = new Queue(queueName(server), { connection: bullmqConnection(), prefix: queuePrefix() });
    queue.on("error", () => {}); // surfaced by the call that failed
    holder.__mailvaultQueues.set(server, queue);
  }
  return queue;
}

/** The server queue's event stream, for waiting on a job's end without polling (one per process). */
export function serverQueueEvents(server: string): QueueEvents {
  holder.__mailvaultQueueEvents ??= new Map();
  let events = holder.__mailvaultQueueEvents.get(server);
  if (!events) {
    // A blocking reader: BullMQ needs it to retry forever; the waiter's own deadline bounds the wait.
    events = new QueueEvents(queueName(server), { connection: { ...redisOptions(), maxRetriesPerRequest: null }, prefix: queuePrefix() });
    events.on("error", () => {});
    holder.__mailvaultQueueEvents.set(server, events);
  }
  return events;
}

export async function closeQueues(): Promise<void> {
  const queues = [...(holder.__mailvaultQueues?.values() ?? [])];
  const events = [...(holder.__mailvaultQueueEvents?.values() ?? [])];
  holder.__mailvaultQueues = undefined;
  holder.__mailvaultQueueEvents = undefined;
  await Promise.all([...queues.map((q) => q.close()), ...events.map((e) => e.close())]);
}

/**
 * How long finished jobs stay in Redis: a week when done, a month when failed (the Jobs page
 * reads them; the console database keeps the sessions and runs for good). Flows' parents and
 * children get the same, so a server restore's thousands of account jobs do not stay forever;
 * a parent reads its children's results from its own record, not from theirs.
 */
export const FINISHED_JOB_RETENTION = { removeOnComplete: { age: 7 * 86_400 }, removeOnFail: { age: 30 * 86_400 } } as const;

/** Validates the payload against the job's definition and adds it with the definition's defaults. */
export async function enqueueJob<N extends JobName>(server: string, name: N, data: JobInput<N>) {
  const definition: JobDefinition = jobDefinitions[name];
  const parsed = definition.schema.safeParse(data);
  if (!parsed.success) {
    throw new InvalidInputError(`invalid ${name} payload: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
  }
  return serverQueue(server).add(name, parsed.data, {
    ...retryOptions(definition),
    jobId: definition.jobId?.(parsed.data),
    removeOnComplete: { age: 7 * 86_400, count: 1_000 },
    removeOnFail: { age: 30 * 86_400 },
  });
}
