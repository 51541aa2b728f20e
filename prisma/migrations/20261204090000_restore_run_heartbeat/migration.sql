-- A restore run's heartbeat: refreshed by whichever of its jobs is running, so the worker's sweep
-- can tell a run whose jobs died (stale, and no job left in Redis) from one that is only waiting.
ALTER TABLE "restore_run" ADD COLUMN "heartbeat_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;
