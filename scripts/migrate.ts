/** `npm run db:migrate`: creates the console database if needed and applies pending migrations. */
import { config, databaseName } from "../server/config.ts";
import { ensureDatabase } from "../server/db/databases.ts";
import { migrateDatabase } from "../server/db/migrate.ts";

const url = config().DATABASE_URL;
try {
  if (await ensureDatabase(url)) console.log(`created database ${databaseName(url)}`);
  const { applied } = await migrateDatabase(url);
  console.log(applied.length ? `applied ${applied.join(", ")}` : "the console database is up to date");
} catch (error) {
  console.error(`migrate: ${(error as Error).message}`);
  process.exit(1);
}
