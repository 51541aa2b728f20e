/** Job outcomes in the console database, so the history outlives Redis. */
import type { Job } from "bullmq";
import { prisma } from "../db/console-db.ts";

/** The first this-many log lines of a job are kept with its outcome. */
export const KEPT_LOG_LINES = 1000;

export async function recordJobRun(server: string, job: Job, status: "completed" | "failed", result: unknown, error?: string, logs: string[] = []): Promise<void> {
  const id = `${job.queueName}:${job.id}`;
  const row = {
    server,
    name: job.name,
    status,
    data: (job.data ?? {}) as object,
    result: result === null || result === undefined ? undefined : (JSON.parse(JSON.stringify(result)) as object),
    error: error ?? null,
    progress: typeof job.progress === "object" ? (job.progress as object) : undefined,
    logs: logs.slice(0, KEPT_LOG_LINES),
    createdAt: new Date(job.timestamp),
    startedAt: job.processedOn ? new Date(job.processedOn) : null,
    finishedAt: new Date(job.finishedOn ?? Date.now()),
  };
  await prisma().jobRun.upsert({ where: { id }, create: { id, ...row }, update: row });
}
