/**
 * The set-up of the benches that study one large mailbox (bench:drill, bench:explore): an empty
 * demo directory, mail1's mailstore, `big@example.com` with `messages` composed messages a minute
 * apart, and a worker for mail1 (4 jobs at a time) that the bench closes when it ends.
 */
import { startWorkers } from "../workers/start-workers.ts";
import { composeMessage } from "../server/demo/compose-message.ts";
import { Random } from "../server/demo/random.ts";
import { seedDemo } from "../server/demo/seed-demo.ts";
import { createAccount } from "../server/mailstore/account-operations.ts";
import { deliverMessage } from "../server/mailstore/deliver-message.ts";
import { openMailstore, type Mailstore } from "../server/mailstore/mailstore.ts";
import { setUpServerStore } from "../server/mailstore/setup-mailstore.ts";
import type { BenchEnv } from "./bench-env.ts";

export async function bigMailbox(env: BenchEnv, options: { messages: number; seed: number }): Promise<{ store: Mailstore; big: { accountId: string; email: string }; ids: number[] }> {
  await seedDemo({ accounts: 0, formerNames: 0, dataDir: env.dataDir, consoleDatabase: env.consoleDatabase, lmtpBasePort: 30_000 + Math.floor(Math.random() * 10_000) });
  await setUpServerStore("mail1");
  const store = await openMailstore("mail1");
  const big = await createAccount(store, { email: "big@example.com" });
  const rng = new Random(options.seed);
  const ids: number[] = [];
  for (let i = 0; i < options.messages; i++) {
    const m = composeMessage(rng, { to: [big.email], date: new Date(Date.UTC(2026, 0, 1) + i * 60_000), serial: i });
    ids.push((await deliverMessage(store, { recipients: [big.email], bytes: m.bytes })).delivered[0]!.itemId);
  }
  const workers = await startWorkers({ servers: [{ name: "mail1", concurrency: 4 }] });
  env.defer(() => workers.close());
  return { store, big, ids };
}
