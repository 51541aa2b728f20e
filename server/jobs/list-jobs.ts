/**
 * Jobs as the console shows them, read from each server's BullMQ queue: newest first, with
 * state, progress and outcome; optionally of one server, and of one kind (`backup.start`) or
 * domain (`backup`: every backup.* job), and without the system's own jobs (`hideSystem`: the redo
 * archiver's, about 8 a minute, and report mails). Job history that outlives Redis: server/jobs/get-job.ts.
 */
import type { Job } from "bullmq";
import { z } from "zod";
import { assertServerExists, listServerNames } from "../directory/list-servers.ts";
import { ServiceUnavailableError } from "../errors.ts";
import { serverQueue } from "./queues.ts";
import { wholeNumber } from "../validation/whole-number.ts";

export const jobStates = ["active", "waiting", "delayed", "completed", "failed"] as const;

export const listJobsInput = z.object({
  state: z.enum(jobStates).optional(),
  limit: wholeNumber("limit", { max: 200 }).default(50),
  server: z.string().trim().min(1).optional(),
  name: z.string().trim().min(1).optional(),
  /** Leave out SYSTEM_JOBS (the console's default view). */
  hideSystem: z.stringbool().or(z.boolean()).default(false),
});

/** Jobs the system runs by itself, many an hour: hidden from the console's list unless asked for. */
export const SYSTEM_JOBS = ["redo.archive", "report.send", "explore.prepare"];

/** With a name filter, this many jobs per server are looked at to find `limit` of that kind. */
const NAME_SCAN = 1_000;

export interface JobSummary {
  id: string;
  server: string;
  name: string;
  state: string;
  progress: unknown;
  data: unknown;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  attemptsMade: number;
  failedReason: string | null;
  result: unknown;
}

const iso = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : null);

async function summarize(server: string, job: Job): Promise<JobSummary> {
  return {
    id: job.id!,
    server,
    name: job.name,
    state: await job.getState(),
    progress: job.progress,
    data: job.data,
    createdAt: new Date(job.timestamp).toISOString(),
    startedAt: iso(job.processedOn),
    finishedAt: iso(job.finishedOn),
    attemptsMade: job.attemptsMade,
    failedReason: job.failedReason || null,
    result: job.returnvalue ?? null,
  };
}

export async function listJobs(servers: string[], input: z.input<typeof listJobsInput>): Promise<JobSummary[]> {
  const { state, limit, server: only, name, hideSystem } = listJobsInput.parse(input);
  const wanted = (job: Job) => (!name || job.name === name || job.name.startsWith(`${name}.`)) && !(hideSystem && SYSTEM_JOBS.includes(job.name));
  try {
    const perServer = await Promise.all(
      servers.filter((server) => !only || server === only).map(async (server) => {
        const jobs = await serverQueue(server).getJobs(state ? [state] : [...jobStates], 0, (name || hideSystem ? NAME_SCAN : limit) - 1);
        return Promise.all(jobs.filter((job) => job && wanted(job)).slice(0, limit).map((job) => summarize(server, job)));
      }),
    );
    return perServer.flat().sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, limit);
  } catch (error) {
    throw new ServiceUnavailableError("redis", (error as Error).message);
  }
}

/** GET /api/jobs: the jobs of every server, or of `server` (404 `server_not_found` when unknown). */
export async function listServerJobs(raw: z.input<typeof listJobsInput>): Promise<JobSummary[]> {
  const input = listJobsInput.parse(raw);
  if (input.server) await assertServerExists(input.server);
  const servers = input.server ? [input.server] : await listServerNames();
  return listJobs(servers, input);
}
