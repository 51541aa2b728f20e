-- The directory: domains, classes of service, servers, accounts and every name each account has had.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TYPE "account_status" AS ENUM ('active', 'maintenance', 'locked', 'closed');
CREATE TYPE "backup_mode" AS ENUM ('standard', 'auto_grouped');

CREATE TABLE "domain" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "domain_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "domain_name_key" ON "domain"("name");

CREATE TABLE "class_of_service" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "quota_bytes" BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT "class_of_service_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "class_of_service_name_key" ON "class_of_service"("name");

CREATE TABLE "server" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "hostname" TEXT NOT NULL,
    "mailstore_database" TEXT NOT NULL,
    "blob_volume_path" TEXT NOT NULL,
    "redo_archive_path" TEXT NOT NULL,
    "backup_target" TEXT NOT NULL,
    "backup_mode" "backup_mode" NOT NULL DEFAULT 'standard',
    "settings" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "server_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "server_name_key" ON "server"("name");

CREATE TABLE "account" (
    "id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "display_name" TEXT NOT NULL DEFAULT '',
    "status" "account_status" NOT NULL DEFAULT 'active',
    "domain_id" INTEGER NOT NULL,
    "server_id" INTEGER NOT NULL,
    "cos_id" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deleted_at" TIMESTAMPTZ(3),
    CONSTRAINT "account_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "account_domain_id_fkey" FOREIGN KEY ("domain_id") REFERENCES "domain"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "account_server_id_fkey" FOREIGN KEY ("server_id") REFERENCES "server"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "account_cos_id_fkey" FOREIGN KEY ("cos_id") REFERENCES "class_of_service"("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
CREATE INDEX "account_server_id_status_idx" ON "account"("server_id", "status");
CREATE INDEX "account_domain_id_idx" ON "account"("domain_id");
-- A live account's name is unique; a deleted account keeps its last name, which may be reused.
CREATE UNIQUE INDEX "account_email_live_key" ON "account"("email") WHERE "deleted_at" IS NULL;
CREATE INDEX "account_email_idx" ON "account"("email");

CREATE TABLE "account_name" (
    "id" BIGSERIAL NOT NULL,
    "account_id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "valid_from" TIMESTAMPTZ(3) NOT NULL,
    "valid_to" TIMESTAMPTZ(3),
    CONSTRAINT "account_name_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "account_name_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "account_name_valid_range" CHECK ("valid_to" IS NULL OR "valid_to" >= "valid_from")
);
CREATE INDEX "account_name_account_id_idx" ON "account_name"("account_id");
-- Search by any name an account ever had: prefix through text_pattern_ops, substring through trigrams.
CREATE INDEX "account_name_email_prefix_idx" ON "account_name"("email" text_pattern_ops);
CREATE INDEX "account_name_email_trgm_idx" ON "account_name" USING GIN ("email" gin_trgm_ops);
-- Exactly one current name per account.
CREATE UNIQUE INDEX "account_name_current_key" ON "account_name"("account_id") WHERE "valid_to" IS NULL;
