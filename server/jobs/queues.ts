/**
 * One BullMQ queue per mailbox server, named `mailvault.<server>`; work that touches a server's
 * files runs on a worker for that server's queue. Every key is under MAILVAULT_QUEUE_PREFIX, so a
 * test run's queues never meet another run's.
 */
import { Queue } from "bullmq";
import { config } from "../config.ts";
import { InvalidInputError } from "../errors.ts";
import { jobDefinitions, retryOptions, type JobDefinition, type JobInput, type JobName } from "./definitions.ts";
import { bullmqConnection } from "./redis.ts";

export function queueName(server: string): string {
  return `mailvault.${server}`;
}

export function queuePrefix(): string {
  return config().MAILVAULT_QUEUE_PREFIX;
}

const holder = globalThis as unknown as { __mailvaultQueues?: Map<string, Queue> };

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

export async function closeQueues(): Promise<void> {
  const queues = [...(holder.__mailvaultQueues?.values() ?? [])];
  holder.__mailvaultQueues = undefined;
  await Promise.all(queues.map((q) => q.close()));
}

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
