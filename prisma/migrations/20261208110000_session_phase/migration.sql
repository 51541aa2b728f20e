-- What a running backup session is doing now, and since when: sealing the redo, copying it,
-- backing up accounts, publishing. The console shows it with throughput and an ETA.
ALTER TABLE "backup_session" ADD COLUMN "phase" TEXT;
ALTER TABLE "backup_session" ADD COLUMN "phase_started_at" TIMESTAMPTZ(3);
