-- Why an account is not active, in words the console shows (a mailbox a disaster restore could not bring back).
ALTER TABLE "account" ADD COLUMN "status_reason" TEXT;
