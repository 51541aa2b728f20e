/** Job outcomes in the console database, so the history outlives Redis. */
import type { Job } from "bullmq";
import { consolePool } from "../db/console-db.ts";

/** The first this-many log lines of a job are kept with its outcome. */
export const KEPT_LOG_LINES = 1000;

export async function recordJobRun(server: string, job: Job, status: "completed" | "failed", result: unknown, error?: string, logs: string[] = []): Promise<void> {
  const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));
  // Plain SQL with the JSON as text: a backup batch's result (every account's files) took
  // Prisma's argument building tens of milliseconds of the worker's main thread.
  await consolePool().query(
    `INSERT INTO job_run (id, server, name, status, data, result, error, progress, logs, created_at, started_at, finished_at)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8::jsonb, $9::text[], $10, $11, $12)
     ON CONFLICT (id) DO UPDATE SET server = EXCLUDED.server, name = EXCLUDED.name, status = EXCLUDED.status, data = EXCLUDED.data,
       result = EXCLUDED.result, error = EXCLUDED.error, progress = EXCLUDED.progress, logs = EXCLUDED.logs,
       created_at = EXCLUDED.created_at, started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at`,
    [
      `${job.queueName}:${job.id}`,
      server,
      job.name,
      status,
      json(job.data ?? {}),
      json(result),
      error ?? null,
      typeof job.progress === "object" ? json(job.progress) : null,
      logs.slice(0, KEPT_LOG_LINES),
      new Date(job.timestamp),
      job.processedOn ? new Date(job.processedOn) : null,
      new Date(job.finishedOn ?? Date.now()),
    ],
  );
}
