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
import { seedDemoMail } from "../server/demo/seed-demo-mail.ts";
import { closeMailstores } from "../server/mailstore/mailstore.ts";

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 5_000_000) throw new InvalidArgumentError("a whole number from 0 to 5000000");
  return n;
}

const opts = new Command("seed")
  .description("Create the demo directory (servers, domains, accounts with renames and deletions)")
  .option("--accounts <n>", "generated accounts", count, 240)
  .option("--former-names <n>", "former names spread over the generated accounts (default: a tenth of --accounts)", count)
  .option("--ops-per-account <n>", "mailbox operations per account to fill the mailstores (default 50; 0 for the directory only, the default above 1000 accounts)", count)
  .parse()
  .opts<{ accounts: number; formerNames?: number; opsPerAccount?: number }>();

const { DATABASE_URL, MAILVAULT_DATA_DIR, MAILVAULT_LMTP_BASE_PORT } = config();
try {
  await ensureDatabase(DATABASE_URL);
  await migrateDatabase(DATABASE_URL);
  const started = performance.now();
  const result = await seedDemo({
    accounts: opts.accounts,
    formerNames: opts.formerNames,
    dataDir: MAILVAULT_DATA_DIR,
    consoleDatabase: databaseName(DATABASE_URL),
    lmtpBasePort: MAILVAULT_LMTP_BASE_PORT,
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`seeded ${result.servers} servers, ${result.accountsCreated} new accounts, ${result.formerNamesCreated} former names in ${seconds} s`);
  const opsPerAccount = opts.opsPerAccount ?? (opts.accounts > 1000 ? 0 : 50);
  if (opsPerAccount > 0 && result.accountsCreated > 0) {
    const mail = await seedDemoMail({ opsPerAccount });
    for (const [server, r] of Object.entries(mail)) console.log(`${server}: ${r.mailboxes} mailboxes, ${r.recipients} messages delivered in ${r.seconds.toFixed(0)} s`);
  }
} catch (error) {
  console.error(`seed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await closeMailstores();
  await closeConsoleDb();
}
