-- The backup catalog (a cache of what the backup targets hold), job history and session leases.

CREATE TYPE "backup_type" AS ENUM ('full', 'incremental');
CREATE TYPE "session_status" AS ENUM ('queued', 'running', 'completed', 'failed', 'aborted', 'interrupted');

CREATE TABLE "backup_session" (
    "id" SERIAL NOT NULL,
    "server_id" INTEGER NOT NULL,
    "label" TEXT NOT NULL,
    "type" "backup_type" NOT NULL,
    "mode" "backup_mode" NOT NULL DEFAULT 'standard',
    "status" "session_status" NOT NULL,
    "requested_accounts" TEXT[],
    "requested_by" TEXT NOT NULL DEFAULT '',
    "job_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "ended_at" TIMESTAMPTZ(3),
    "heartbeat_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "abort_requested" BOOLEAN NOT NULL DEFAULT false,
    "redo_from_seq" BIGINT,
    "redo_through_seq" BIGINT,
    "redo_segments" INTEGER NOT NULL DEFAULT 0,
    "accounts_total" INTEGER NOT NULL DEFAULT 0,
    "accounts_done" INTEGER NOT NULL DEFAULT 0,
    "current_account" TEXT,
    "bytes_written" BIGINT NOT NULL DEFAULT 0,
    "blobs_referenced" INTEGER NOT NULL DEFAULT 0,
    "blob_bytes_referenced" BIGINT NOT NULL DEFAULT 0,
    "blobs_new" INTEGER NOT NULL DEFAULT 0,
    "blob_bytes_new" BIGINT NOT NULL DEFAULT 0,
    "error" TEXT,
    "warnings" JSONB NOT NULL DEFAULT '[]',
    CONSTRAINT "backup_session_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "backup_session_server_id_fkey" FOREIGN KEY ("server_id") REFERENCES "server"("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "backup_session_server_id_label_key" ON "backup_session"("server_id", "label");
CREATE INDEX "backup_session_server_id_created_at_idx" ON "backup_session"("server_id", "created_at");
-- One backup at a time per server: a second queued or running session cannot exist.
CREATE UNIQUE INDEX "backup_session_one_active_key" ON "backup_session"("server_id") WHERE "status" IN ('queued', 'running');

CREATE TABLE "session_account" (
    "session_id" INTEGER NOT NULL,
    "account_id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "change_number" BIGINT,
    "redo_seq" BIGINT,
    "items" INTEGER NOT NULL DEFAULT 0,
    "messages" INTEGER NOT NULL DEFAULT 0,
    "bytes" BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT "session_account_pkey" PRIMARY KEY ("session_id", "account_id"),
    CONSTRAINT "session_account_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "backup_session"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "session_account_account_id_idx" ON "session_account"("account_id");
CREATE INDEX "session_account_email_trgm_idx" ON "session_account" USING GIN ("email" gin_trgm_ops);

CREATE TABLE "job_run" (
    "id" TEXT NOT NULL,
    "server" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "data" JSONB NOT NULL DEFAULT '{}',
    "result" JSONB,
    "error" TEXT,
    "progress" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    CONSTRAINT "job_run_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "job_run_server_created_at_idx" ON "job_run"("server", "created_at");

CREATE TABLE "session_lease" (
    "id" SERIAL NOT NULL,
    "session_id" INTEGER NOT NULL,
    "holder" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "session_lease_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "session_lease_session_id_idx" ON "session_lease"("session_id");
