-- Redo shipping (server/redo/ship-redo.ts): per server and target, the newest redo sequence
-- number the target holds and the time of that record, and how the last attempt went. The
-- target itself is the truth (its redo/ objects); this row is what `rpo`, the dashboard and the
-- metrics read without reaching the target.
CREATE TABLE "redo_ship" (
  "server_id" INTEGER NOT NULL REFERENCES "server"("id") ON DELETE CASCADE,
  "target" TEXT NOT NULL,
  "url" TEXT NOT NULL,
  "last_shipped_seq" BIGINT NOT NULL DEFAULT 0,
  "last_shipped_at" TIMESTAMPTZ(3),
  "shipped_at" TIMESTAMPTZ(3),
  "segments_shipped" INTEGER NOT NULL DEFAULT 0,
  "bytes_shipped" BIGINT NOT NULL DEFAULT 0,
  "failing_since" TIMESTAMPTZ(3),
  "last_error" TEXT,
  PRIMARY KEY ("server_id", "target")
);
