/**
 * `npm run bench:backup [-- --messages 20000 --accounts 10000 --changed 100]`
 *
 * On a generated server with shared blobs (a database `mailvault_bench_<random>` and a temporary
 * folder, both removed afterwards):
 *   1. the physical baseline, measured in the same run: `tar -cf` of the blob volume plus
 *      `COPY ... TO` of every item row; then a full backup (submit to completed), as a ratio
 *      (target at most 1.3x);
 *   2. a second full of unchanged data, as a ratio of the first (target at most 0.3x);
 *   3. on a second server with many small accounts: incrementals after changing few accounts
 *      and after changing ten times as many, against the full of all of them, showing that an
 *      incremental's time follows the redo, not the number of accounts.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { Command } from "commander";
import { to as copyTo } from "pg-copy-streams";
import { startWorkers } from "../workers/start-workers.ts";
import { submitBackup } from "../server/backup/submit-backup.ts";
import { resetConfig, withDatabase } from "../server/config.ts";
import { closeConsoleDb, consolePool, prisma } from "../server/db/console-db.ts";
import { dropDatabase, ensureDatabase } from "../server/db/databases.ts";
import { dropDatabasesOf } from "../server/testing/test-env.ts";
import { migrateDatabase } from "../server/db/migrate.ts";
import { generateTraffic } from "../server/demo/generate-traffic.ts";
import { seedDemo } from "../server/demo/seed-demo.ts";
import { getServer } from "../server/directory/list-servers.ts";
import { ensureMailboxes } from "../server/mailstore/account-operations.ts";
import { setFlags } from "../server/mailstore/item-operations.ts";
import { closeMailstores, openMailstore } from "../server/mailstore/mailstore.ts";
import { setUpServerStore } from "../server/mailstore/setup-mailstore.ts";
import { deleteRedisKeys } from "../server/testing/test-env.ts";

const opts = new Command("bench:backup")
  .option("--messages <n>", "messages on the first server (at least)", (v) => Number(v), 20_000)
  .option("--accounts <n>", "accounts on the second server", (v) => Number(v), 10_000)
  .option("--changed <n>", "accounts changed before the first incremental", (v) => Number(v), 100)
  .parse()
  .opts<{ messages: number; accounts: number; changed: number }>();

const id = randomBytes(4).toString("hex");
const consoleUrl = withDatabase(process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres", `mailvault_bench_${id}`);
process.env.DATABASE_URL = consoleUrl;
process.env.MAILVAULT_QUEUE_PREFIX = `mvbench_${id}`;
const dir = await mkdtemp(path.join(os.tmpdir(), "mailvault-bench-backup-"));
process.env.MAILVAULT_DATA_DIR = dir;
resetConfig();

const seconds = (started: number) => (performance.now() - started) / 1000;

async function timedBackup(server: string, type: "full" | "incremental") {
  const started = performance.now();
  const { label } = await submitBackup({ server, type, accounts: type === "full" ? "all" : undefined, requestedBy: "bench" });
  for (;;) {
    const s = await prisma().backupSession.findFirstOrThrow({ where: { label } });
    if (!["queued", "running"].includes(s.status)) {
      if (s.status !== "completed") throw new Error(`${label} ${s.status}: ${s.error}`);
      return { seconds: seconds(started), session: s };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

const workers: { close(): Promise<void> }[] = [];
try {
  await ensureDatabase(consoleUrl);
  await migrateDatabase(consoleUrl);
  await seedDemo({ accounts: 400, formerNames: 0, dataDir: dir, consoleDatabase: `mailvault_bench_${id}`, lmtpBasePort: 30_000 + Math.floor(Math.random() * 10_000) });

  // 1. A server with enough mail.
  await setUpServerStore("mail1");
  const store = await openMailstore("mail1");
  await ensureMailboxes(store);
  let messages = 0;
  for (let seed = 1; messages < opts.messages; seed++) {
    await generateTraffic(store, { ops: 5000, seed, renames: false, concurrency: 4 });
    messages = (await store.pool.query<{ n: number }>(`SELECT ${Array.from({ length: store.groups }, (_, g) => `(SELECT count(*) FROM mboxgroup${g + 1}.item WHERE type = 'message')`).join(" + ")} AS n`)).rows[0]!.n;
  }
  const server = await getServer("mail1");
  const { rows: blobStats } = await store.pool.query(`SELECT count(*) AS blobs FROM (${Array.from({ length: store.groups }, (_, g) => `SELECT blob_digest FROM mboxgroup${g + 1}.item WHERE blob_digest IS NOT NULL`).join(" UNION ")}) d`);
  const blobVolume = Number(execFileSync("du", ["-sb", server.blobVolumePath], { encoding: "utf8" }).split("\t")[0]);
  console.log(`mail1: ${messages} messages, ${blobStats[0].blobs} distinct blobs, blob volume ${(blobVolume / 1048576).toFixed(0)} MiB`);

  let started = performance.now();
  execFileSync("tar", ["-cf", path.join(dir, "baseline.tar"), "-C", server.blobVolumePath, "."]);
  const tarSeconds = seconds(started);
  started = performance.now();
  const client = await store.pool.connect();
  for (let g = 1; g <= store.groups; g++) {
    await pipeline(client.query(copyTo(`COPY mboxgroup${g}.item TO STDOUT`)), createWriteStream(path.join(dir, `baseline-items-${g}.copy`)));
  }
  client.release();
  const copySeconds = seconds(started);
  const baseline = tarSeconds + copySeconds;

  workers.push(await startWorkers({ servers: [{ name: "mail1", concurrency: 4 }, { name: "mail2", concurrency: 4 }] }));
  console.log(`baseline: tar of the blob volume ${tarSeconds.toFixed(2)} s + COPY of the item rows ${copySeconds.toFixed(2)} s = ${baseline.toFixed(2)} s`);

  // The first full without compression (as tar stores them), then again from an empty target with it.
  const mail1 = await prisma().server.findUniqueOrThrow({ where: { name: "mail1" } });
  const setCompression = (on: boolean) =>
    prisma().server.update({ where: { id: mail1.id }, data: { settings: { ...(mail1.settings as object), backupCompression: on } } });
  await setCompression(false);
  const raw = await timedBackup("mail1", "full");
  const rawBytes = Number(raw.session.blobBytesNew);
  console.log(`full backup, blobs stored as they are: ${raw.seconds.toFixed(2)} s, ${raw.session.blobsNew} blobs = ${(raw.seconds / baseline).toFixed(2)}x the baseline (target <= 1.3x)`);
  await rm(server.backupTarget, { recursive: true, force: true });
  await prisma().backupSession.deleteMany({ where: { serverId: mail1.id } });
  await setCompression(true);
  const first = await timedBackup("mail1", "full");
  console.log(
    `full backup, compressed where it saves >= 10%: ${first.seconds.toFixed(2)} s = ${(first.seconds / baseline).toFixed(2)}x the baseline; ` +
      `blob store ${(Number(first.session.blobBytesNew) / 1048576).toFixed(0)} MiB instead of ${(rawBytes / 1048576).toFixed(0)} MiB`,
  );
  const second = await timedBackup("mail1", "full");
  console.log(`second full, unchanged: ${second.seconds.toFixed(2)} s, ${second.session.blobsNew} new blobs = ${(second.seconds / first.seconds).toFixed(2)}x the first (target <= 0.3x)`);

  // 3. Many small accounts: incrementals follow the redo.
  if (opts.accounts > 0) await incrementals();
} catch (error) {
  console.error(`bench failed: ${(error as Error).stack ?? error}`);
  process.exitCode = 1;
} finally {
  for (const w of workers) await w.close();
  await closeMailstores();
  await closeConsoleDb();
  await dropDatabasesOf(consoleUrl).catch(() => dropDatabase(consoleUrl));
  await deleteRedisKeys(`mvbench_${id}:*`);
  await rm(dir, { recursive: true, force: true });
  process.exit(process.exitCode ?? 0);
}

async function incrementals() {
  await setUpServerStore("mail2");
  const many = await openMailstore("mail2");
  const serverId = (await prisma().server.findUniqueOrThrow({ where: { name: "mail2" } })).id;
  const { rows: existing } = await consolePool().query<{ n: number }>("SELECT count(*)::int AS n FROM account WHERE server_id = $1", [serverId]);
  const extra = Math.max(0, opts.accounts - existing[0]!.n);
  const ids: string[] = Array.from({ length: extra }, () => crypto.randomUUID());
  const domain = (await consolePool().query<{ id: number }>("SELECT id FROM domain WHERE name = 'example.com'")).rows[0]!.id;
  const cos = (await consolePool().query<{ id: number }>("SELECT id FROM class_of_service WHERE name = 'default'")).rows[0]!.id;
  await consolePool().query(
    `INSERT INTO account (id, email, domain_id, server_id, cos_id) SELECT id, 'bulk' || n || '@example.com', $2, $3, $4 FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, n)`,
    [ids, domain, serverId, cos],
  );
  await consolePool().query(`INSERT INTO account_name (account_id, email, valid_from) SELECT id, email, now() FROM account WHERE id = ANY($1::uuid[])`, [ids]);
  const started = performance.now();
  await ensureMailboxes(many);
  const { rows: boxes } = await many.pool.query<{ account_id: string; email: string }>("SELECT account_id, email FROM mailstore.mailbox ORDER BY id");
  await generateTraffic(many, { ops: boxes.length, seed: 77, renames: false, concurrency: 4 });
  console.log(`\nmail2: ${boxes.length} accounts with small mailboxes (set up in ${seconds(started).toFixed(0)} s)`);
  const fullMany = await timedBackup("mail2", "full");
  console.log(`full of ${fullMany.session.accountsTotal} accounts: ${fullMany.seconds.toFixed(2)} s`);

  /** Flags one message in each of `count` accounts, starting at account `from`. */
  async function change(count: number, from: number) {
    let changed = 0;
    for (const box of boxes.slice(from, from + count)) {
      const { rows: g } = await many.pool.query<{ group_id: number; id: number }>("SELECT group_id, id FROM mailstore.mailbox WHERE account_id = $1", [box.account_id]);
      const { rows: items } = await many.pool.query<{ id: number }>(`SELECT id FROM mboxgroup${g[0]!.group_id}.item WHERE mailbox_id = $1 AND type = 'message' LIMIT 1`, [g[0]!.id]);
      if (items[0]) {
        await setFlags(many, { accountId: box.account_id }, { itemIds: [items[0].id], flags: { flagged: true } });
        changed++;
      }
    }
    return changed;
  }
  const few = await change(opts.changed, 0);
  const incrFew = await timedBackup("mail2", "incremental");
  const more = await change(opts.changed * 10, opts.changed);
  const incrMore = await timedBackup("mail2", "incremental");
  const none = await timedBackup("mail2", "incremental");
  console.log(`incremental, ${few} of ${boxes.length} accounts changed: ${incrFew.seconds.toFixed(2)} s (${(incrFew.seconds / fullMany.seconds).toFixed(3)}x the full)`);
  console.log(`incremental, ${more} changed: ${incrMore.seconds.toFixed(2)} s; nothing changed: ${none.seconds.toFixed(2)} s`);
}
