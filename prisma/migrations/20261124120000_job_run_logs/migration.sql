-- A finished job's log lines, kept with its outcome so the job page shows them after Redis drops the job.
ALTER TABLE "job_run" ADD COLUMN "logs" TEXT[] DEFAULT ARRAY[]::TEXT[];
