/**
 * Jobs as the console shows them, read from each server's BullMQ queue: newest first, with
 * state, progress and outcome. (Job history that outlives Redis comes with the backup jobs.)
 */
import type { Job } from "bullmq";
import { z } from "zod";
import { ServiceUnavailableError } from "../errors.ts";
import { serverQueue } from "./queues.ts";

export const jobStates = ["active", "waiting", "delayed", "completed", "failed"] as const;

export const listJobsInput = z.object({
  state: z.enum(jobStates).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

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
  const { state, limit } = listJobsInput.parse(input);
  try {
    const perServer = await Promise.all(
      servers.map(async (server) => {
        const jobs = await serverQueue(server).getJobs(state ? [state] : [...jobStates], 0, limit - 1);
        return Promise.all(jobs.filter(Boolean).map((job) => summarize(server, job)));
      }),
    );
    return perServer.flat().sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, limit);
  } catch (error) {
    throw new ServiceUnavailableError("redis", (error as Error).message);
  }
}
