-- Restores: each run with its plan and outcome; snapshot times of accounts in sessions.

ALTER TABLE "session_account" ADD COLUMN "snapshot_at" TIMESTAMPTZ(3);

CREATE TABLE "restore_run" (
    "id" SERIAL NOT NULL,
    "label" TEXT NOT NULL,
    "server" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "requested_by" TEXT NOT NULL DEFAULT '',
    "plan" JSONB NOT NULL,
    "result" JSONB,
    "error" TEXT,
    "job_id" TEXT,
    "accounts_total" INTEGER NOT NULL DEFAULT 0,
    "accounts_done" INTEGER NOT NULL DEFAULT 0,
    "current_account" TEXT,
    "abort_requested" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "ended_at" TIMESTAMPTZ(3),
    CONSTRAINT "restore_run_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "restore_run_label_key" ON "restore_run"("label");
CREATE INDEX "restore_run_server_created_at_idx" ON "restore_run"("server", "created_at");
