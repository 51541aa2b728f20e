-- Restore drills (server/drill/run-drill.ts): accounts restored into scratch mailboxes and
-- compared with what they must be, with the evidence kept: points, plans, durations, differences.
CREATE TABLE "restore_drill" (
  "id" SERIAL NOT NULL,
  "label" TEXT NOT NULL,
  "server" TEXT NOT NULL,
  "status" TEXT NOT NULL,
  "requested_by" TEXT NOT NULL DEFAULT '',
  "request" JSONB NOT NULL,
  "evidence" JSONB NOT NULL DEFAULT '[]',
  "summary" TEXT,
  "rto_seconds_per_mib" DOUBLE PRECISION,
  "job_id" TEXT,
  "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "started_at" TIMESTAMPTZ(3),
  "ended_at" TIMESTAMPTZ(3),
  "heartbeat_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "restore_drill_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "restore_drill_label_key" ON "restore_drill"("label");
CREATE INDEX "restore_drill_server_created_at_idx" ON "restore_drill"("server", "created_at");
