-- Sessions copied to a server's copy targets (`mailvault copy`): which target holds which
-- session, since when, what the copy sent, and whether it verified at the destination. Keyed
-- by label, not session id: a catalog rescan rebuilds backup_session rows.
CREATE TABLE "session_copy" (
  "id" SERIAL PRIMARY KEY,
  "server_id" INTEGER NOT NULL REFERENCES "server"("id") ON DELETE CASCADE,
  "label" TEXT NOT NULL,
  "target" TEXT NOT NULL,
  "copied_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
  "packs_sent" INTEGER NOT NULL DEFAULT 0,
  "packs_present" INTEGER NOT NULL DEFAULT 0,
  "bytes_sent" BIGINT NOT NULL DEFAULT 0,
  "files" INTEGER NOT NULL DEFAULT 0,
  "verified" BOOLEAN NOT NULL,
  "problems" JSONB NOT NULL DEFAULT '[]'
);
CREATE UNIQUE INDEX "session_copy_server_id_label_target_key" ON "session_copy"("server_id", "label", "target");
CREATE INDEX "session_copy_server_id_target_copied_at_idx" ON "session_copy"("server_id", "target", "copied_at");
