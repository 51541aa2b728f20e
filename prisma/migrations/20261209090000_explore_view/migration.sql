-- Exploring a backup (server/explore/): an account's mailbox as a session holds it, or at a point
-- in time, made readable as a hidden mailbox of metadata only (no account owns it, no body is
-- copied), kept while it is used and removed an hour after its last use.
CREATE TABLE "explore_view" (
  "id" SERIAL NOT NULL,
  "server" TEXT NOT NULL,
  "account_id" UUID NOT NULL,
  "key" TEXT NOT NULL,
  "label" TEXT,
  "at" TIMESTAMPTZ(3),
  "description" TEXT NOT NULL,
  "plan" JSONB NOT NULL,
  "state" TEXT NOT NULL,
  "error" TEXT,
  "mailbox_id" INTEGER,
  "mailbox_account_id" UUID,
  "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "used_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "explore_view_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "explore_view_account_id_key_key" ON "explore_view"("account_id", "key");
CREATE INDEX "explore_view_server_used_at_idx" ON "explore_view"("server", "used_at");
