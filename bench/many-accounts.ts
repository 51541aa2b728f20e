/**
 * A server with many small accounts, for incrementals: `count` accounts inserted in bulk into the
 * directory, each given a mailbox and a little mail, and a way to change one message in each of a
 * slice of them.
 */
import { randomUUID } from "node:crypto";
import { consolePool, prisma } from "../server/db/console-db.ts";
import { generateTraffic } from "../server/demo/generate-traffic.ts";
import { ensureMailboxes } from "../server/mailstore/account-operations.ts";
import { setFlags } from "../server/mailstore/item-operations.ts";
import { openMailstore } from "../server/mailstore/mailstore.ts";
import { setUpServerStore } from "../server/mailstore/setup-mailstore.ts";
import { secondsSince } from "./bench-env.ts";

export async function prepareManyAccounts(serverName: string, count: number) {
  await setUpServerStore(serverName);
  const store = await openMailstore(serverName);
  const serverId = (await prisma().server.findUniqueOrThrow({ where: { name: serverName } })).id;
  const pool = consolePool();
  const { rows: existing } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM account WHERE server_id = $1", [serverId]);
  const ids = Array.from({ length: Math.max(0, count - existing[0]!.n) }, () => randomUUID());
  const domain = (await pool.query<{ id: number }>("SELECT id FROM domain WHERE name = 'example.com'")).rows[0]!.id;
  const cos = (await pool.query<{ id: number }>("SELECT id FROM class_of_service WHERE name = 'default'")).rows[0]!.id;
  await pool.query(
    `INSERT INTO account (id, email, domain_id, server_id, cos_id) SELECT id, 'bulk' || n || '@example.com', $2, $3, $4 FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, n)`,
    [ids, domain, serverId, cos],
  );
  await pool.query(`INSERT INTO account_name (account_id, email, valid_from) SELECT id, email, now() FROM account WHERE id = ANY($1::uuid[])`, [ids]);
  const started = performance.now();
  await ensureMailboxes(store);
  const { rows: boxes } = await store.pool.query<{ id: number; account_id: string; group_id: number }>("SELECT id, account_id, group_id FROM mailstore.mailbox ORDER BY id");
  await generateTraffic(store, { ops: boxes.length, seed: 77, renames: false, concurrency: 4 });
  console.log(`\n${serverName}: ${boxes.length} accounts with small mailboxes (set up in ${secondsSince(started).toFixed(0)} s)`);

  /** Flags one message in each of `n` accounts, starting at account `from`; returns how many changed. */
  async function change(n: number, from: number): Promise<number> {
    let changed = 0;
    for (const box of boxes.slice(from, from + n)) {
      const { rows: items } = await store.pool.query<{ id: number }>(`SELECT id FROM mboxgroup${box.group_id}.item WHERE mailbox_id = $1 AND type = 'message' LIMIT 1`, [box.id]);
      if (!items[0]) continue;
      await setFlags(store, { accountId: box.account_id }, { itemIds: [items[0].id], flags: { flagged: true } });
      changed++;
    }
    return changed;
  }
  return { accounts: boxes.length, change };
}
