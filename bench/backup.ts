/**
 * `npm run bench:backup [-- --scale 4] [--messages 20000 --accounts 10000 --changed 100] [--s3-latency 20]`
 *
 * On a generated server with shared blobs (everything in bench-env.ts, removed afterwards):
 *   1. the physical baseline, measured in the same run: `tar -cf` of the blob volume plus
 *      `COPY ... TO` of every item row; then a full backup into an empty target with blobs
 *      stored as they are (as tar stores them), submit to completed. The generated traffic's redo
 *      is archived first (timed apart), as the archiver would have done on a live server;
 *   2. a full into another empty target with compression on (the default): its time against the
 *      uncompressed one; then a second full of unchanged data, against that first full;
 *   3. on a second server with many small accounts: incrementals after changing few accounts
 *      and ten times as many, showing that an incremental's time follows what changed.
 *   4. (issue 13) the compressed full again into an S3 bucket (s3rver on 127.0.0.1, in a process
 *      of its own as S3 would be: bench/s3-process.ts) and
 *      into an encrypted folder, each against the compressed full into a folder; with
 *      `--s3-latency`, also into an s3rver that holds each request that long.
 * It ends with the table of the ratios issues 11 and 13 track. `--scale` multiplies `--messages`, so the
 * same command at --scale 1 and 4 shows how the cost grows with the blob count.
 *
 * Each full starts from a folder no worker has seen, into which the redo archive is shipped
 * first (timed apart: on a live server the archive job ships each segment as it seals), and the
 * bench waits until the server's
 * queue is idle before it moves on: the catalog says "completed" before the finish job has
 * returned, so a target is never removed while a job may still write into it.
 */
import { execFileSync } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { Command } from "commander";
import { to as copyTo } from "pg-copy-streams";
import { startWorkers } from "../workers/start-workers.ts";
import { backendFor, closeRepositories } from "../server/backup/target.ts";
import { prisma } from "../server/db/console-db.ts";
import { archiveServerRedo } from "../server/redo/archive-server-redo.ts";
import { shipRedo } from "../server/redo/ship-redo.ts";
import { generateTraffic } from "../server/demo/generate-traffic.ts";
import { seedDemo } from "../server/demo/seed-demo.ts";
import { getServer } from "../server/directory/list-servers.ts";
import { ensureMailboxes } from "../server/mailstore/account-operations.ts";
import { openMailstore } from "../server/mailstore/mailstore.ts";
import { setUpServerStore } from "../server/mailstore/setup-mailstore.ts";
import { initEncryption } from "../server/repository/repository-keys.ts";
import { startS3Process } from "./s3-process.ts";
import { runBench, secondsSince, type BenchEnv } from "./bench-env.ts";
import { prepareManyAccounts } from "./many-accounts.ts";
import { queueIdle, timedBackup } from "./timed-jobs.ts";
import { printRatioTable, type Measure } from "./ratio-table.ts";

const opts = new Command("bench:backup")
  .option("--messages <n>", "messages on the first server (at least), before --scale", (v) => Number(v), 20_000)
  .option("--scale <k>", "multiplies --messages: 1 and 4 give the blob counts issue 11 compares", (v) => Number(v), 1)
  .option("--accounts <n>", "accounts on the second server (0: skip the incrementals)", (v) => Number(v), 10_000)
  .option("--changed <n>", "accounts changed before the first incremental", (v) => Number(v), 100)
  .option("--s3-latency <ms>", "also a full into an s3rver that holds each request this long, as a store across a network (0: skip)", (v) => Number(v), 0)
  .parse()
  .opts<{ messages: number; scale: number; accounts: number; changed: number; s3Latency: number }>();

await runBench("backup", async (env) => {
  const messagesWanted = Math.round(opts.messages * opts.scale);
  await seedDemo({ accounts: 400, formerNames: 0, dataDir: env.dataDir, consoleDatabase: env.consoleDatabase, lmtpBasePort: 30_000 + Math.floor(Math.random() * 10_000) });
  const mail1 = await generateMail(messagesWanted);
  const baseline = await physicalBaseline(env, mail1);

  const workers = await startWorkers({ servers: [{ name: "mail1", concurrency: 4 }, { name: "mail2", concurrency: 4 }] });
  env.defer(() => workers.close());
  // On a live server the archiver seals the redo log every few minutes; here it has not run since
  // the traffic was generated. Archive it now, so the timed fulls seal only what is new.
  const archived = await timedArchive("mail1");
  console.log(`redo archived before the fulls (the archiver's work, not the backup's): ${archived.toFixed(2)} s`);

  const raw = await fullIntoEmptyTarget(env, "raw", false);
  console.log(`full backup, blobs stored as they are: ${raw.seconds.toFixed(2)} s, ${raw.session.blobsNew} blobs`);
  const first = await fullIntoEmptyTarget(env, "compressed", true);
  const mib = (n: bigint | number) => (Number(n) / 1048576).toFixed(0);
  console.log(`full backup, compressed where it saves >= 10%: ${first.seconds.toFixed(2)} s; blob store ${mib(first.session.blobBytesNew)} MiB instead of ${mib(raw.session.blobBytesNew)} MiB`);
  // Measured alone, as the fulls before it are: not beside jobs the first full left queued.
  await queueIdle("mail1");
  const second = await timedBackup("mail1", "full");
  console.log(`second full, unchanged: ${second.seconds.toFixed(2)} s, ${second.session.blobsNew} new blobs`);
  await queueIdle("mail1");

  // Issue 13: the same compressed full into an S3 bucket (s3rver on 127.0.0.1 in its own process,
  // over HTTP through the AWS SDK), and into an encrypted folder.
  const s3 = await startS3Process(["bench"]);
  env.defer(() => s3.stop());
  const inS3 = await fullIntoEmptyTarget(env, "s3", true, s3.url("bench", `mail1-${Date.now()}`));
  console.log(`full backup into S3 (s3rver): ${inS3.seconds.toFixed(2)} s`);
  let inFarS3: Awaited<ReturnType<typeof fullIntoEmptyTarget>> | null = null;
  if (opts.s3Latency > 0) {
    const far = await startS3Process(["bench"], { latencyMs: opts.s3Latency });
    env.defer(() => far.stop());
    inFarS3 = await fullIntoEmptyTarget(env, "s3-far", true, far.url("bench", `mail1-${Date.now()}`));
    console.log(`full backup into S3 (s3rver, ${opts.s3Latency} ms per request): ${inFarS3.seconds.toFixed(2)} s`);
  }
  process.env.MAILVAULT_TARGET_PASSPHRASE ??= "bench passphrase, not a secret";
  const encryptedFolder = path.join(env.dataDir, "servers", "mail1", "backups-encrypted");
  const encrypted = await fullIntoEmptyTarget(env, "encrypted", true, encryptedFolder, () => initEncryption(backendFor(encryptedFolder).raw, process.env.MAILVAULT_TARGET_PASSPHRASE!));
  console.log(`full backup into an encrypted folder: ${encrypted.seconds.toFixed(2)} s`);
  await queueIdle("mail1");

  const measures: Measure[] = [
    { measure: "full backup / (tar -cf blobs + COPY TO rows)", kind: "ratio", measured: raw.seconds, baseline, mustReach: 1.5 },
    { measure: "second full of unchanged data / first full", kind: "ratio", measured: second.seconds, baseline: first.seconds, mustReach: 0.1 },
  ];
  if (opts.accounts > 0) {
    const incr = await incrementals();
    measures.push(
      { measure: `incremental, ${incr.accounts} accounts, ${incr.few.changed} changed`, kind: "seconds", measured: incr.few.seconds, mustReach: 1 },
      { measure: `  incremental, ${incr.more.changed} changed`, kind: "seconds", measured: incr.more.seconds },
      { measure: "  incremental, none changed", kind: "seconds", measured: incr.none },
      { measure: `  full of ${incr.accounts} accounts`, kind: "seconds", measured: incr.full },
    );
  }
  measures.push({ measure: "compressed full / uncompressed full, time", kind: "ratio", measured: first.seconds, baseline: raw.seconds, mustReach: 1.3 });
  measures.push({ measure: "full into S3 (s3rver) / full into a folder", kind: "ratio", measured: inS3.seconds, baseline: first.seconds, mustReach: 2 });
  if (inFarS3) measures.push({ measure: `  the same, ${opts.s3Latency} ms per request`, kind: "ratio", measured: inFarS3.seconds, baseline: first.seconds });
  measures.push({ measure: "encrypted full / compressed full, folder", kind: "ratio", measured: encrypted.seconds, baseline: first.seconds, mustReach: 1.2 });
  printRatioTable(
    `issue 11, bench:backup --scale ${opts.scale}: ${mail1.messages} messages, ${mail1.blobs} distinct blobs, ${mib(mail1.volumeBytes)} MiB of blobs`,
    measures,
  );
  console.log(`peak RSS of the bench process (workers included) during the fulls: ${Math.max(raw.peakRssMiB, first.peakRssMiB, second.peakRssMiB).toFixed(0)} MiB (issue 11: under 512 MiB)`);
});

async function timedArchive(server: string): Promise<number> {
  const started = performance.now();
  await archiveServerRedo(server, { force: true });
  return secondsSince(started);
}

/** mail1 with at least `wanted` messages, blobs shared the way generated traffic shares them. */
async function generateMail(wanted: number) {
  await setUpServerStore("mail1");
  const store = await openMailstore("mail1");
  await ensureMailboxes(store);
  const groups = Array.from({ length: store.groups }, (_, g) => `mboxgroup${g + 1}`);
  let messages = 0;
  for (let seed = 1; messages < wanted; seed++) {
    await generateTraffic(store, { ops: 5000, seed, renames: false, concurrency: 4 });
    const counted = await store.pool.query<{ n: string }>(`SELECT ${groups.map((g) => `(SELECT count(*) FROM ${g}.item WHERE type = 'message')`).join(" + ")} AS n`);
    messages = Number(counted.rows[0]!.n);
  }
  const distinct = await store.pool.query<{ n: string }>(`SELECT count(*) AS n FROM (${groups.map((g) => `SELECT blob_digest FROM ${g}.item WHERE blob_digest IS NOT NULL`).join(" UNION ")}) d`);
  const server = await getServer("mail1");
  const volumeBytes = Number(execFileSync("du", ["-sb", server.blobVolumePath], { encoding: "utf8" }).split("\t")[0]);
  console.log(`mail1: ${messages} messages, ${distinct.rows[0]!.n} distinct blobs, blob volume ${(volumeBytes / 1048576).toFixed(0)} MiB`);
  return { store, groups, server, messages, blobs: Number(distinct.rows[0]!.n), volumeBytes };
}

/** `tar -cf` of the blob volume plus `COPY ... TO` of every item row, in seconds. */
async function physicalBaseline(env: BenchEnv, mail1: Awaited<ReturnType<typeof generateMail>>): Promise<number> {
  const scratch = path.join(env.dataDir, "baseline");
  await mkdir(scratch, { recursive: true });
  let started = performance.now();
  execFileSync("tar", ["-cf", path.join(scratch, "blobs.tar"), "-C", mail1.server.blobVolumePath, "."]);
  const tarSeconds = secondsSince(started);
  started = performance.now();
  const client = await mail1.store.pool.connect();
  try {
    for (const g of mail1.groups) await pipeline(client.query(copyTo(`COPY ${g}.item TO STDOUT`)), createWriteStream(path.join(scratch, `${g}.copy`)));
  } finally {
    client.release();
  }
  const copySeconds = secondsSince(started);
  await rm(scratch, { recursive: true, force: true });
  console.log(`baseline: tar of the blob volume ${tarSeconds.toFixed(2)} s + COPY of the item rows ${copySeconds.toFixed(2)} s = ${(tarSeconds + copySeconds).toFixed(2)} s`);
  return tarSeconds + copySeconds;
}

/**
 * A full of mail1 into a target folder of its own, with compression on or off. The previous
 * target is removed only once no job of the server is left (see the file's opening comment).
 */
async function fullIntoEmptyTarget(env: BenchEnv, name: string, compress: boolean, target = path.join(env.dataDir, "servers", "mail1", `backups-${name}`), prepare?: () => Promise<unknown>) {
  await queueIdle("mail1");
  const server = await prisma().server.findUniqueOrThrow({ where: { name: "mail1" } });
  await prisma().backupSession.deleteMany({ where: { serverId: server.id } });
  // Moved aside, not removed: a full right after the removal of the last target's files paid for it (env.discard).
  if (!server.backupTarget.includes("://")) await env.discard(server.backupTarget);
  await closeRepositories(); // what this process knew of the removed target, and its open packs
  await prepare?.();
  await closeRepositories();
  await prisma().server.update({
    where: { id: server.id },
    data: { backupTarget: target, settings: { ...(server.settings as object), backupCompression: compress } },
  });
  // With redo shipping on (the default), the archive job sends each sealed segment to every
  // target within seconds; only a target that is new finds the whole archive missing. Ship it
  // now, timed apart as the archiving is, so the full does what it does on a live server.
  const started = performance.now();
  const shipped = await shipRedo(await getServer("mail1"), { now: true });
  console.log(`redo shipped to the new target first (the archive job's work): ${secondsSince(started).toFixed(2)} s, ${shipped.reduce((n, r) => n + r.shipped.length, 0)} segment(s)`);
  return timedBackup("mail1", "full");
}

async function incrementals() {
  const { accounts, change } = await prepareManyAccounts("mail2", opts.accounts);
  const full = await timedBackup("mail2", "full");
  console.log(`full of ${accounts} accounts: ${full.seconds.toFixed(2)} s`);
  const fewChanged = await change(opts.changed, 0);
  const few = await timedBackup("mail2", "incremental");
  const moreChanged = await change(opts.changed * 10, opts.changed);
  const more = await timedBackup("mail2", "incremental");
  const none = await timedBackup("mail2", "incremental");
  await queueIdle("mail2");
  console.log(`incremental, ${fewChanged} of ${accounts} accounts changed: ${few.seconds.toFixed(2)} s; ${moreChanged} changed: ${more.seconds.toFixed(2)} s; nothing changed: ${none.seconds.toFixed(2)} s`);
  return { accounts, full: full.seconds, few: { changed: fewChanged, seconds: few.seconds }, more: { changed: moreChanged, seconds: more.seconds }, none: none.seconds };
}
