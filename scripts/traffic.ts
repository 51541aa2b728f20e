/**
 * `npm run traffic -- --server mail1 --ops 20000 --seed 7 [--concurrency 4] [--no-renames]`:
 * a reproducible mix of mailbox operations (see server/demo/generate-traffic.ts).
 */
import { Command, InvalidArgumentError } from "commander";
import { closeConsoleDb } from "../server/db/console-db.ts";
import { generateTraffic } from "../server/demo/generate-traffic.ts";
import { ensureMailboxes } from "../server/mailstore/account-operations.ts";
import { closeMailstores, openMailstore } from "../server/mailstore/mailstore.ts";
import { setUpServerStore } from "../server/mailstore/setup-mailstore.ts";

const whole = (min: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`a whole number of at least ${min}`);
  return n;
};

const opts = new Command("traffic")
  .description("Run a reproducible, realistic mix of mailbox operations against a server")
  .option("-s, --server <name>", "mailbox server", "mail1")
  .option("--ops <n>", "operations to run", whole(1), 1000)
  .option("--seed <n>", "PRNG seed: the same seed makes the same operations", whole(0), 1)
  .option("--concurrency <n>", "operations at once (1 replays a seed exactly)", whole(1), 4)
  .option("--no-renames", "leave account names alone")
  .parse()
  .opts<{ server: string; ops: number; seed: number; concurrency: number; renames: boolean }>();

try {
  await setUpServerStore(opts.server);
  const store = await openMailstore(opts.server);
  const created = await ensureMailboxes(store);
  if (created) console.log(`created ${created} missing mailboxes`);
  const result = await generateTraffic(store, {
    ...opts,
    onProgress: (done, total) => process.stdout.write(`\r${done}/${total} operations`),
  });
  process.stdout.write("\r");
  const rate = Math.round(result.ops / result.seconds);
  console.log(`${result.ops} operations in ${result.seconds.toFixed(1)} s (${rate}/s): ${result.deliveries} deliveries to ${result.recipients} mailboxes, ${(result.deliveredBytes / 1048576).toFixed(1)} MiB; ${result.refused} refused`);
  console.log(Object.entries(result.byKind).map(([k, n]) => `${k} ${n}`).join(", "));
} catch (error) {
  console.error(`traffic: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await closeMailstores();
  await closeConsoleDb();
}
