/**
 * `npm run bench:attach [-- --accounts 10000 --sessions 30]`
 *
 * How long a new installation takes to attach a target (`repo attach`): a server of `accounts`
 * small accounts backs up `sessions` times (a full, then incrementals, each after a few accounts
 * changed) with redo shipping on; then a second, empty console database and data folder attach
 * its target, as after the loss of the machine. Prints the attach time and what it rebuilt
 * (must: at most 60 s for 10,000 accounts and 30 sessions).
 */
import path from "node:path";
import { Command } from "commander";
import { attachTarget } from "../server/backup/attach-target.ts";
import { closeRepositories } from "../server/backup/target.ts";
import { resetConfig, withDatabase } from "../server/config.ts";
import { closeConsoleDb } from "../server/db/console-db.ts";
import { ensureDatabase } from "../server/db/databases.ts";
import { migrateDatabase } from "../server/db/migrate.ts";
import { seedDemo } from "../server/demo/seed-demo.ts";
import { getServer } from "../server/directory/list-servers.ts";
import { closeMailstores } from "../server/mailstore/mailstore.ts";
import { forgetShipState } from "../server/redo/ship-redo.ts";
import { startWorkers } from "../workers/start-workers.ts";
import { runBench, secondsSince } from "./bench-env.ts";
import { prepareManyAccounts } from "./many-accounts.ts";
import { timedBackup } from "./timed-jobs.ts";

const opts = new Command("bench:attach")
  .option("--accounts <n>", "accounts on the server", (v) => Number(v), 10_000)
  .option("--sessions <n>", "backup sessions on its target (a full, then incrementals)", (v) => Number(v), 30)
  .parse()
  .opts<{ accounts: number; sessions: number }>();

await runBench("bench:attach", async (env) => {
  await seedDemo({ accounts: 0, dataDir: env.dataDir, consoleDatabase: env.consoleDatabase });
  const { accounts, change } = await prepareManyAccounts("mail1", opts.accounts);
  const workers = await startWorkers({ servers: [{ name: "mail1", concurrency: 4 }] });
  const started = performance.now();
  await timedBackup("mail1", "full");
  for (let i = 1; i < opts.sessions; i++) {
    await change(20, (i * 20) % accounts);
    await timedBackup("mail1", "incremental");
  }
  console.log(`${accounts} accounts, ${opts.sessions} sessions backed up in ${secondsSince(started).toFixed(0)} s`);
  const url = (await getServer("mail1")).backupTarget;
  await workers.close();

  // The new installation: an empty console database and data folder, nothing else.
  const fresh = withDatabase(env.consoleUrl, `${env.consoleDatabase}_attach`);
  await closeMailstores();
  await closeConsoleDb();
  await closeRepositories();
  forgetShipState();
  await ensureDatabase(fresh);
  await migrateDatabase(fresh);
  process.env.DATABASE_URL = fresh;
  process.env.MAILVAULT_DATA_DIR = path.join(env.dataDir, "new-installation");
  resetConfig();

  const attaching = performance.now();
  const attached = await attachTarget({ url, takeover: true });
  const seconds = secondsSince(attaching);
  console.log(
    `attach: ${seconds.toFixed(1)} s for ${attached.accounts} accounts, ${attached.sessions} sessions, ${attached.redo.segments} shipped segments fetched (directory from ${attached.directoryFrom}) (must: <= 60 s at 10,000 accounts and 30 sessions)`,
  );
});
