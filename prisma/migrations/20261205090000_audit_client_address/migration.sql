-- The address a console request came from (scripts/console-server.ts decides it), so sign-in
-- failures are counted per email and address: a stranger's guesses cannot lock the admin out.
ALTER TABLE "audit_log" ADD COLUMN "address" TEXT NOT NULL DEFAULT '';
CREATE INDEX "audit_log_action_actor_at_idx" ON "audit_log"("action", "actor", "at");
