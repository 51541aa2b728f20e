-- A prefixed copy made by a restore knows the account it copies (the Accounts list's "copy of X"
-- badge and filter read it with the account, not from every restore run's plan). Copies made
-- before this are found in the runs' plans once, here.
ALTER TABLE "account" ADD COLUMN "copy_of" UUID;
UPDATE "account" a SET "copy_of" = c.original
  FROM (SELECT DISTINCT ON (acc->'target'->>'email') acc->'target'->>'email' AS email, (acc->>'accountId')::uuid AS original
          FROM "restore_run" r CROSS JOIN jsonb_array_elements(r."plan"->'plan'->'accounts') acc
         WHERE acc->'target'->>'mode' = 'copy'
         ORDER BY acc->'target'->>'email', r."created_at" DESC) c
 WHERE a."email" = c.email AND a."id" <> c.original;
CREATE INDEX "account_copy_of_idx" ON "account"("copy_of");
