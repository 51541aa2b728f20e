import { defineConfig } from "prisma/config";

// `prisma generate` needs no database; commands that would (migrate, db push) need the schema
// engine, which is unavailable offline: see scripts/migrate.ts.
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/mailvault" },
});
