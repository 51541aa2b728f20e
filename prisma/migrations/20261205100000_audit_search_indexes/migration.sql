-- The audit log page filters by part of an email ("who") and by an action prefix: trigram
-- indexes answer both (ILIKE '%x%' and LIKE 'x%') without reading the whole table. pg_trgm is a
-- trusted extension: the database's owner may create it. Prisma's schema does not describe these.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS "audit_log_actor_trgm_idx" ON "audit_log" USING gin ("actor" gin_trgm_ops);
CREATE INDEX IF NOT EXISTS "audit_log_action_trgm_idx" ON "audit_log" USING gin ("action" gin_trgm_ops);
CREATE INDEX IF NOT EXISTS "audit_log_outcome_at_idx" ON "audit_log" ("outcome", "at");
