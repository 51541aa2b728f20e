-- This console installation's identity: the id it writes into the lease of every backup target
-- its workers ship to (server/backup/target-lease.ts), so that a second installation attaching
-- the same target (`repo attach`) sees it is still held by a live console.
CREATE TABLE "console_identity" (
  "id" UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now()
);
INSERT INTO "console_identity" DEFAULT VALUES;
