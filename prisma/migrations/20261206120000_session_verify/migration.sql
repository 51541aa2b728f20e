-- Each session keeps its last verify: when, whether it was sound, and what was found. The
-- sessions list and page show it, and the restore planner warns before using a damaged one.
ALTER TABLE "backup_session" ADD COLUMN "verified_at" TIMESTAMPTZ(3);
ALTER TABLE "backup_session" ADD COLUMN "verify_ok" BOOLEAN;
ALTER TABLE "backup_session" ADD COLUMN "verify_problems" JSONB NOT NULL DEFAULT '[]';
