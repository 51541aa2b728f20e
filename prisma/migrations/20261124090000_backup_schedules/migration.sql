-- Backup schedules: one row per server with its zmschedulebackup-style entries; the BullMQ job
-- schedulers on the server's queue are derived from it.

CREATE TABLE "backup_schedule" (
    "id" SERIAL NOT NULL,
    "server" TEXT NOT NULL,
    "entries" JSONB NOT NULL DEFAULT '[]',
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_by" TEXT NOT NULL DEFAULT '',
    CONSTRAINT "backup_schedule_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "backup_schedule_server_key" ON "backup_schedule"("server");
