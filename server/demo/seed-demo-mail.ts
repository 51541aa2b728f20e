/**
 * Fills the demo servers' mailstores: a mailbox for every live directory account, then a
 * seeded traffic run of `opsPerAccount` operations per mailbox, so every demo mailbox holds tens
 * to hundreds of messages (a few busy ones more) with folders, tags, contacts and deletions.
 */
import { listServerNames } from "../directory/list-servers.ts";
import { ensureMailboxes } from "../mailstore/account-operations.ts";
import { openMailstore } from "../mailstore/mailstore.ts";
import { setUpServerStore } from "../mailstore/setup-mailstore.ts";
import { generateTraffic, type TrafficResult } from "./generate-traffic.ts";

export async function seedDemoMail(options: { opsPerAccount: number; seed?: number; onProgress?: (server: string, done: number, total: number) => void }) {
  const results: Record<string, TrafficResult & { mailboxes: number }> = {};
  for (const [index, server] of (await listServerNames()).entries()) {
    await setUpServerStore(server);
    const store = await openMailstore(server);
    await ensureMailboxes(store);
    const { rows } = await store.pool.query<{ n: number }>("SELECT count(*) AS n FROM mailstore.mailbox");
    const mailboxes = rows[0]!.n;
    const result = await generateTraffic(store, {
      ops: mailboxes * options.opsPerAccount,
      seed: (options.seed ?? 2026) + index,
      renames: false,
      onProgress: (done, total) => options.onProgress?.(server, done, total),
    });
    results[server] = { ...result, mailboxes };
  }
  return results;
}
