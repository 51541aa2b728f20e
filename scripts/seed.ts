/**
 * `npm run seed [-- --accounts N] [--former-names M]`: the demo directory, idempotent.
 * `--accounts 100000 --former-names 300000` builds the scale set the search is measured on.
 */
import { Command, InvalidArgumentError } from "commander";
import { config, databaseName } from "../server/config.ts";
import { closeConsoleDb } from "../server/db/console-db.ts";
import { ensureDatabase } from "../server/db/databases.ts";
import { migrateDatabase } from "../server/db/migrate.ts";
import { seedDemo } from "../server/demo/seed-demo.ts";

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 5_000_000) throw new InvalidArgumentError("a whole number from 0 to 5000000");
  return n;
}

const opts = new Command("seed")
  .description("Create the demo directory (servers, domains, accounts with renames and deletions)")
  .option("--accounts <n>", "generated accounts", count, 240)
  .option("--former-names <n>", "former names spread over the generated accounts (default: a tenth of --accounts)", count)
  .parse()
  .opts<{ accounts: number; formerNames?: number }>();

const { DATABASE_URL, MAILVAULT_DATA_DIR } = config();
try {
  await ensureDatabase(DATABASE_URL);
  await migrateDatabase(DATABASE_URL);
  const started = performance.now();
  const result = await seedDemo({
    accounts: opts.accounts,
    formerNames: opts.formerNames,
    dataDir: MAILVAULT_DATA_DIR,
    consoleDatabase: databaseName(DATABASE_URL),
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`seeded ${result.servers} servers, ${result.accountsCreated} new accounts, ${result.formerNamesCreated} former names in ${seconds} s`);
} catch (error) {
  console.error(`seed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await closeConsoleDb();
}
