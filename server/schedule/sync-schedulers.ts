/**
 * The BullMQ side of a schedule: entry n of server S is the job scheduler `schedule:S:n` on S's
 * queue, firing a `schedule.backup` or `schedule.retention` job with the entry in its payload.
 * Syncing makes the queue hold exactly the stored entries: upsert each, remove any other
 * `schedule:S:*` scheduler. The console database stays the source of truth; the queue is rebuilt
 * from it whenever a schedule changes and whenever a worker starts (a Redis restart loses it).
 */
import type { JobSchedulerJson } from "bullmq";
import { InvalidInputError } from "../errors.ts";
import { jobDefinitions, type JobData } from "../jobs/definitions.ts";
import { serverQueue } from "../jobs/queues.ts";
import type { ScheduleEntry } from "./schedule-entry.ts";

export function schedulerId(server: string, n: number): string {
  return `schedule:${server}:${n}`;
}

function isScheduleScheduler(server: string, id: string | null | undefined): boolean {
  return Boolean(id?.startsWith(`schedule:${server}:`));
}

export function redoArchiveSchedulerId(server: string): string {
  return `redo-archive:${server}`;
}

export type ScheduledJob =
  | { name: "schedule.backup"; data: JobData<"schedule.backup"> }
  | { name: "schedule.retention"; data: JobData<"schedule.retention"> }
  | { name: "schedule.copy"; data: JobData<"schedule.copy"> }
  | { name: "schedule.verify"; data: JobData<"schedule.verify"> }
  | { name: "schedule.summary"; data: JobData<"schedule.summary"> }
  | { name: "schedule.drill"; data: JobData<"schedule.drill"> };

/** The job entry n (1-based) fires, validated against its definition. */
export function scheduledJob(entry: ScheduleEntry, n: number): ScheduledJob {
  const base = { entry: n, pattern: entry.pattern, tz: entry.tz };
  const job: ScheduledJob =
    entry.type === "retention"
      ? { name: "schedule.retention", data: { ...base, age: entry.age! } }
      : entry.type === "copy"
        ? { name: "schedule.copy", data: { ...base, to: entry.to! } }
        : entry.type === "verify"
          ? { name: "schedule.verify", data: { ...base, scope: entry.scope! } }
          : entry.type === "summary"
            ? { name: "schedule.summary", data: base }
            : entry.type === "drill"
              ? { name: "schedule.drill", data: { ...base, scope: entry.scope! } }
              : { name: "schedule.backup", data: { ...base, type: entry.type } };
  const parsed = jobDefinitions[job.name].schema.safeParse(job.data);
  if (!parsed.success) throw new InvalidInputError(`invalid ${job.name} payload: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
  return job;
}

/** Every Redis call here fails fast (see bullmqConnection); this bounds the whole sync too. */
async function bounded<T>(work: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took more than ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The server's queue schedulers: the schedule's and the redo archive's. */
export async function readSchedulers(server: string): Promise<JobSchedulerJson[]> {
  return bounded(serverQueue(server).getJobSchedulers(), `reading ${server}'s job schedulers`);
}

/** Makes the queue's `schedule:<server>:*` schedulers exactly the given entries. */
export async function syncSchedulers(server: string, entries: ScheduleEntry[]): Promise<{ upserted: string[]; removed: string[] }> {
  const queue = serverQueue(server);
  const work = async () => {
    const wanted = entries.map((entry, i) => ({ id: schedulerId(server, i + 1), entry, job: scheduledJob(entry, i + 1) }));
    for (const { id, entry, job } of wanted) {
      const definition = jobDefinitions[job.name];
      await queue.upsertJobScheduler(
        id,
        { pattern: entry.pattern, tz: entry.tz },
        {
          name: job.name,
          data: job.data,
          opts: { attempts: definition.attempts, removeOnComplete: { age: 30 * 86_400, count: 500 }, removeOnFail: { age: 90 * 86_400 } },
        },
      );
    }
    const removed: string[] = [];
    for (const scheduler of await queue.getJobSchedulers()) {
      const id = scheduler.id ?? scheduler.key;
      if (isScheduleScheduler(server, id) && !wanted.some((w) => w.id === id)) {
        await queue.removeJobScheduler(id);
        removed.push(id);
      }
    }
    return { upserted: wanted.map((w) => w.id), removed };
  };
  return bounded(work(), `updating ${server}'s job schedulers`);
}
