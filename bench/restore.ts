/**
 * `npm run bench:restore [-- --messages 10000 --replay 5000 --group-mailboxes 100]`
 *
 * In a database `mailvault_bench_<random>` and a temporary folder (both removed afterwards):
 *   1. one mailbox of `--messages` messages, backed up; then its restore into a copy with every
 *      blob brought back from the backup (the blob volume emptied first), against the physical
 *      baseline measured in the same run: COPY FROM of its item rows plus tar -xf of its blobs
 *      (target at most 1.5x);
 *   2. replay: `--replay` operations on it after the backup, restored to the latest change; the
 *      replay's records per second against batched INSERTs of as many rows (target >= 0.3x);
 *   3. a mailbox group of `--group-mailboxes` mailboxes dropped and rebuilt: the time it takes.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { Command } from "commander";
import { from as copyFrom } from "pg-copy-streams";
import { startWorkers } from "../workers/start-workers.ts";
import { submitBackup } from "../server/backup/submit-backup.ts";
import { BackupTarget } from "../server/backup/target.ts";
import { resetConfig, withDatabase } from "../server/config.ts";
import { closeConsoleDb, prisma } from "../server/db/console-db.ts";
import { dropDatabase, ensureDatabase } from "../server/db/databases.ts";
import { migrateDatabase } from "../server/db/migrate.ts";
import { composeMessage } from "../server/demo/compose-message.ts";
import { generateTraffic } from "../server/demo/generate-traffic.ts";
import { Random } from "../server/demo/random.ts";
import { seedDemo } from "../server/demo/seed-demo.ts";
import { getServer } from "../server/directory/list-servers.ts";
import { createAccount } from "../server/mailstore/account-operations.ts";
import { deliverMessage } from "../server/mailstore/deliver-message.ts";
import { setFlags, moveItems } from "../server/mailstore/item-operations.ts";
import { INBOX } from "../server/mailstore/items.ts";
import { closeMailstores, openMailstore } from "../server/mailstore/mailstore.ts";
import { setUpServerStore } from "../server/mailstore/setup-mailstore.ts";
import { submitRestore } from "../server/restore/submit-restore.ts";
import { deleteRedisKeys, dropDatabasesOf } from "../server/testing/test-env.ts";

const opts = new Command("bench:restore")
  .option("--messages <n>", "messages in the large mailbox", (v) => Number(v), 10_000)
  .option("--replay <n>", "operations to replay after the backup", (v) => Number(v), 5_000)
  .option("--group-mailboxes <n>", "mailboxes in the group rebuilt (0: skip)", (v) => Number(v), 100)
  .parse()
  .opts<{ messages: number; replay: number; groupMailboxes: number }>();

const id = randomBytes(4).toString("hex");
const consoleUrl = withDatabase(process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres", `mailvault_bench_${id}`);
process.env.DATABASE_URL = consoleUrl;
process.env.MAILVAULT_QUEUE_PREFIX = `mvbench_${id}`;
const dir = await mkdtemp(path.join(os.tmpdir(), "mailvault-bench-restore-"));
process.env.MAILVAULT_DATA_DIR = dir;
resetConfig();
const seconds = (t: number) => (performance.now() - t) / 1000;

async function settle() {
  for (;;) {
    const busy = (await prisma().backupSession.count({ where: { status: { in: ["queued", "running"] } } })) + (await prisma().restoreRun.count({ where: { status: { in: ["queued", "running", "failing"] } } }));
    if (!busy) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function timedRestore(input: Parameters<typeof submitRestore>[0]) {
  const started = performance.now();
  const run = await submitRestore(input);
  if (run.dryRun) throw new Error("dry run");
  for (;;) {
    const row = await prisma().restoreRun.findUniqueOrThrow({ where: { id: run.runId } });
    if (!["queued", "running", "failing"].includes(row.status)) {
      if (row.status !== "completed") throw new Error(`${row.label} ${row.status}: ${row.error}`);
      return { seconds: seconds(started), result: row.result as { restored: { replayed: number; blobsCopied: number; timings: { blobsMs: number; loadMs: number; replayMs: number } }[] } };
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

let workers: { close(): Promise<void> } | undefined;
try {
  await ensureDatabase(consoleUrl);
  await migrateDatabase(consoleUrl);
  await seedDemo({ accounts: 0, formerNames: 0, dataDir: dir, consoleDatabase: `mailvault_bench_${id}`, lmtpBasePort: 30_000 + Math.floor(Math.random() * 10_000) });
  await setUpServerStore("mail1");
  const store = await openMailstore("mail1");
  const server = await getServer("mail1");
  const big = await createAccount(store, { email: "big@example.com" });
  const rng = new Random(7);
  for (let i = 0; i < opts.messages; i++) {
    const m = composeMessage(rng, { to: [big.email], date: new Date(Date.UTC(2026, 0, 1) + i * 60_000), serial: i });
    await deliverMessage(store, { recipients: [big.email], bytes: m.bytes });
  }
  workers = await startWorkers({ servers: [{ name: "mail1", concurrency: 4 }] });
  await submitBackup({ server: "mail1", type: "full", accounts: "all" });
  await settle();
  const session = await prisma().backupSession.findFirstOrThrow({ where: { status: "completed" }, orderBy: { createdAt: "desc" } });
  const target = new BackupTarget(server.backupTarget, "mail1");
  const accountDir = path.join(target.sessionDir(session.label, "complete"), "accounts", big.accountId);
  const digests = (await readFile(path.join(accountDir, "blobs.txt"), "utf8")).split("\n").filter(Boolean);
  console.log(`big@example.com: ${opts.messages} messages, ${digests.length} blobs, backed up in ${session.label}`);

  // Baseline: COPY FROM of its rows into a scratch table, tar -xf of its blobs.
  const blobTar = path.join(dir, "blobs.tar");
  execFileSync("tar", ["-cf", blobTar, "-C", server.blobVolumePath, "."]);
  await store.pool.query("CREATE TABLE bench_items (LIKE mboxgroup1.item INCLUDING DEFAULTS)");
  let started = performance.now();
  const client = await store.pool.connect();
  await pipeline(createReadStream(path.join(accountDir, "items.copy.gz")), createGunzip(), client.query(copyFrom("COPY bench_items FROM STDIN")));
  client.release();
  const copySeconds = seconds(started);
  const extractTo = path.join(dir, "extract");
  await mkdir(extractTo);
  started = performance.now();
  execFileSync("tar", ["-xf", blobTar, "-C", extractTo]);
  const tarSeconds = seconds(started);
  const baseline = copySeconds + tarSeconds;

  // The restore, with an empty blob volume: every blob comes back from the backup.
  await rm(server.blobVolumePath, { recursive: true, force: true });
  const full = await timedRestore({ server: "mail1", accounts: [big.email], noRedo: true, copy: true, prefix: "r1_" });
  await settle();
  console.log(`baseline: COPY FROM of the rows ${copySeconds.toFixed(2)} s + tar -xf of the blobs ${tarSeconds.toFixed(2)} s = ${baseline.toFixed(2)} s`);
  const t = full.result.restored[0]!.timings;
  console.log(`restore into a copy, ${full.result.restored[0]!.blobsCopied} blobs brought back: ${full.seconds.toFixed(2)} s = ${(full.seconds / baseline).toFixed(2)}x the baseline (target <= 1.5x); blobs ${t.blobsMs} ms, COPY FROM ${t.loadMs} ms, the rest queueing and bookkeeping`);

  // Replay: operations after the backup, restored to the latest change.
  const { rows: msgs } = await store.pool.query<{ id: number }>(`SELECT id FROM mboxgroup${(await store.pool.query("SELECT group_id FROM mailstore.mailbox WHERE account_id = $1", [big.accountId])).rows[0].group_id}.item WHERE mailbox_id = (SELECT id FROM mailstore.mailbox WHERE account_id = $1) AND type = 'message' ORDER BY id`, [big.accountId]);
  for (let i = 0; i < opts.replay; i++) {
    const item = msgs[i % msgs.length]!.id;
    if (i % 3 === 2) await moveItems(store, { accountId: big.accountId }, { itemIds: [item], folderId: i % 2 ? INBOX : 5 });
    else await setFlags(store, { accountId: big.accountId }, { itemIds: [item], flags: { read: i % 2 === 0 } });
  }
  const replayed = await timedRestore({ server: "mail1", accounts: [big.email], copy: true, prefix: "r2_" });
  await settle();
  const records = replayed.result.restored[0]!.replayed;
  const replaySeconds = replayed.result.restored[0]!.timings.replayMs / 1000;
  const rate = records / Math.max(replaySeconds, 0.001);
  await store.pool.query("TRUNCATE bench_items");
  started = performance.now();
  for (let i = 0; i < records; i += 500) {
    const n = Math.min(500, records - i);
    await store.pool.query(
      `INSERT INTO bench_items (mailbox_id, id, type, folder_id, date, size, flags, change_number)
       SELECT 1, g, 'message', 2, now(), 100, 0, g FROM generate_series($1::bigint, $2::bigint) AS g`,
      [i + 1, i + n],
    );
  }
  const insertRate = records / seconds(started);
  console.log(`replay: ${records} records in ${replaySeconds.toFixed(2)} s = ${rate.toFixed(0)} records/s; batched INSERTs of as many rows: ${insertRate.toFixed(0)} rows/s; ratio ${(rate / insertRate).toFixed(2)}x (target >= 0.3x)`);

  // A mailbox group lost and rebuilt.
  if (opts.groupMailboxes > 0) {
    const per = store.groups;
    for (let i = 0; i < opts.groupMailboxes * per; i++) await createAccount(store, { email: `g${i}@example.com` });
    await generateTraffic(store, { ops: opts.groupMailboxes * per * 3, seed: 3, renames: false, concurrency: 4 });
    await submitBackup({ server: "mail1", type: "full", accounts: "all" });
    await settle();
    const { rows: g } = await store.pool.query<{ group_id: number; n: number }>("SELECT group_id, count(*)::int AS n FROM mailstore.mailbox GROUP BY group_id ORDER BY n DESC LIMIT 1");
    await store.pool.query(`DROP SCHEMA mboxgroup${g[0]!.group_id} CASCADE`);
    const group = await timedRestore({ server: "mail1", group: g[0]!.group_id });
    console.log(`mailbox group ${g[0]!.group_id} of ${g[0]!.n} mailboxes dropped and rebuilt in ${group.seconds.toFixed(1)} s`);
  }
} catch (error) {
  console.error(`bench failed: ${(error as Error).stack ?? error}`);
  process.exitCode = 1;
} finally {
  await workers?.close();
  await closeMailstores();
  await closeConsoleDb();
  await dropDatabasesOf(consoleUrl).catch(() => dropDatabase(consoleUrl));
  await deleteRedisKeys(`mvbench_${id}:*`);
  await rm(dir, { recursive: true, force: true });
  process.exit(process.exitCode ?? 0);
}
