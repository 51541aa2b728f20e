/**
 * Workers survive a PostgreSQL restart. The test starts a private cluster of its own (initdb into
 * a temporary folder, on a free port) and runs real workers against it, then restarts that cluster
 * with `pg_ctl restart -m immediate` while (a) a redo archive job and (b) the restore of one account
 * into a prefixed copy are half done. Both jobs must end completed after a retry, the worker set
 * must stay up (an unhandled pg 'error' event would crash this process and fail the run), the copy
 * must equal its source and the redo must verify.
 *
 * "Half done" is made certain rather than hoped for: a transaction of the test holds a lock the job
 * needs next, the test waits until the job waits on it (pg_stat_activity), and restarts then:
 *   (a) on mailstore.redo_state: the archiver has written and renamed a segment, deleted its rows
 *       and blocks advancing last_archived_seq, the window where a crash could duplicate records;
 *   (b) on the mailbox groups' item tables: the restore has created the copy's account and mailbox
 *       in its open transactions and blocks loading the snapshot.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chown, mkdtemp, readdir, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { submitBackup } from "../server/backup/submit-backup.ts";
import { databaseName } from "../server/config.ts";
import { prisma } from "../server/db/console-db.ts";
import { guardClient } from "../server/db/guard-connections.ts";
import { generateTraffic } from "../server/demo/generate-traffic.ts";
import { seedDemo } from "../server/demo/seed-demo.ts";
import { pingWorker } from "../server/jobs/ping-worker.ts";
import { runJob } from "../server/jobs/run-job.ts";
import { serverQueue } from "../server/jobs/queues.ts";
import { createAccount } from "../server/mailstore/account-operations.ts";
import { deliverMessage } from "../server/mailstore/deliver-message.ts";
import { openMailstore, type Mailstore } from "../server/mailstore/mailstore.ts";
import { groupSchema, mailstoreUrl } from "../server/mailstore/schema.ts";
import { setUpServerStore } from "../server/mailstore/setup-mailstore.ts";
import { readRedo } from "../server/redo/read-redo.ts";
import { verifyRedo } from "../server/redo/verify-redo.ts";
import { exportMailbox } from "../server/restore/export-mailbox.ts";
import { submitRestore } from "../server/restore/submit-restore.ts";
import { createTestEnv, type TestEnv } from "../server/testing/test-env.ts";
import { startWorkers, type WorkerSet } from "./start-workers.ts";

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(probe: () => Promise<T | null | undefined | false>, what: string, ms = 120_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => null); // the database is away for a moment on purpose
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(100);
  }
}

/** A throwaway PostgreSQL cluster; as root, it belongs to the system's postgres user (initdb refuses root). */
class PrivateCluster {
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly bin: string,
  ) {}

  static async start(): Promise<PrivateCluster> {
    const root = "/usr/lib/postgresql";
    const version = (await readdir(root)).filter((v) => existsSync(path.join(root, v, "bin", "pg_ctl"))).sort((a, b) => Number(b) - Number(a))[0];
    if (!version) throw new Error("no PostgreSQL server binaries under /usr/lib/postgresql");
    const dir = await mkdtemp(path.join(os.tmpdir(), "mailvault-pg-"));
    if (process.getuid?.() === 0) {
      const { stdout } = await run("id", ["-u", "postgres"]);
      const { stdout: gid } = await run("id", ["-g", "postgres"]);
      await chown(dir, Number(stdout), Number(gid));
    }
    const cluster = new PrivateCluster(dir, await freePort(), path.join(root, version, "bin"));
    await cluster.pg("initdb", ["-D", cluster.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"]);
    await cluster.pg("pg_ctl", ["-D", cluster.data, "-l", path.join(dir, "log"), "-w", "-t", "60", "-o", `-p ${cluster.port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, "start"]);
    return cluster;
  }

  get data(): string {
    return path.join(this.dir, "data");
  }

  get url(): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** Kills every backend at once, as a crash would, and starts again (same options). */
  async restartImmediate(): Promise<void> {
    // -l again: without it the new server writes to pg_ctl's stdout, and that pipe never closes.
    await this.pg("pg_ctl", ["-D", this.data, "-l", path.join(this.dir, "log"), "-m", "immediate", "-w", "-t", "60", "restart"]);
  }

  async destroy(): Promise<void> {
    await this.pg("pg_ctl", ["-D", this.data, "-m", "immediate", "-w", "stop"]).catch(() => {});
    await rm(this.dir, { recursive: true, force: true });
  }

  private async pg(tool: string, args: string[]): Promise<void> {
    const command = path.join(this.bin, tool);
    if (process.getuid?.() === 0) await run("runuser", ["-u", "postgres", "--", command, ...args]);
    else await run(command, args);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

let cluster: PrivateCluster | undefined;
let env: TestEnv | undefined;
let store: Mailstore;
let workers: WorkerSet | undefined;

/** A transaction of the test's own holding `lock`, on a connection the restart will kill. */
async function holdLock(sql: string): Promise<pg.Client> {
  const client = guardClient(new pg.Client({ connectionString: mailstoreUrl(store.database) }), "test-blocker");
  await client.connect();
  await client.query("BEGIN");
  await client.query(sql);
  return client;
}

/** Waits until a backend of the mailstore waits for a lock while running a statement like `pattern`. */
async function waitForBlocked(pattern: string): Promise<void> {
  await waitFor(async () => {
    const { rows } = await store.pool.query("SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' AND query LIKE $2", [store.database, pattern]);
    return rows.length > 0;
  }, `a job blocked on ${pattern}`, 60_000);
}

async function jobWhenDone(id: string) {
  return waitFor(async () => {
    const job = await serverQueue("mail1").getJob(id);
    return job?.finishedOn ? job : null;
  }, `job ${id}`);
}

const mime = (n: number) => Buffer.from(`From: x@example.net\r\nSubject: message ${n}\r\n\r\n${"body line\r\n".repeat(20 + (n % 50))}`);

beforeAll(async () => {
  cluster = await PrivateCluster.start();
  process.env.DATABASE_URL = cluster.url;
  env = await createTestEnv();
  await seedDemo({ accounts: 0, dataDir: env.dataDir, consoleDatabase: databaseName(env.databaseUrl) });
  // Small segments, so that one archive run writes several and the restart can fall between them.
  const server = await prisma().server.findUniqueOrThrow({ where: { name: "mail1" } });
  await prisma().server.update({ where: { id: server.id }, data: { settings: { ...(server.settings as object), redoArchive: { maxBytes: 32 * 1024, maxAgeSeconds: 3600 } } } });
  await setUpServerStore("mail1");
  store = await openMailstore("mail1");
  for (let i = 0; i < 4; i++) await createAccount(store, { email: `restart${i}@example.com` });
  await createAccount(store, { email: "big@example.com" });
  for (let n = 0; n < 150; n++) await deliverMessage(store, { recipients: ["big@example.com"], bytes: mime(n) });
  await generateTraffic(store, { ops: 200, seed: 5, renames: false, concurrency: 2 });
  workers = await startWorkers({ servers: [{ name: "mail1", concurrency: 2, lmtpPort: 0 }], onError: () => {} });
}, 180_000);

afterAll(async () => {
  await workers?.close();
  await env?.cleanup();
  await cluster?.destroy();
}, 120_000);

describe("a PostgreSQL restart", () => {
  it("in the middle of a redo archive job: the job is retried and completes, its caller is told so, no record lost or doubled", async () => {
    const { rows: before } = await store.pool.query<{ n: number; max: number }>("SELECT count(*)::int AS n, max(seq) AS max FROM mailstore.redo_log");
    expect(before[0]!.n).toBeGreaterThan(100);

    const blocker = await holdLock("LOCK TABLE mailstore.redo_state IN SHARE MODE");
    // As `redoarchive` and the console's "Archive now" ask for it.
    const answering = runJob("mail1", "redo.archive", { force: true }, 200_000);
    answering.catch(() => {}); // awaited below; must not go unhandled while the restart runs
    await waitForBlocked("UPDATE mailstore.redo_state%");
    // The first segment is renamed into the archive; its transaction is the one about to die.
    expect((await readdir(store.redoArchivePath)).filter((n) => n.startsWith("redo-")).length).toBeGreaterThan(0);
    await cluster!.restartImmediate();
    await blocker.end().catch(() => {});

    // The failed attempt's reason stays on the job: the caller must still hear it completed.
    const { jobId, result } = await answering;
    expect(result).toMatchObject({ status: "archived" });
    const done = await jobWhenDone(jobId);
    expect(await done.getState()).toBe("completed");
    expect(done.attemptsMade).toBeGreaterThanOrEqual(2); // failed once with the restart, then completed

    const verified = await verifyRedo(store);
    expect(verified.problems).toEqual([]);
    expect(verified.ok).toBe(true);
    const seqs: number[] = [];
    for await (const r of readRedo(store)) seqs.push(r.seq);
    expect(seqs.length).toBe(before[0]!.n);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(Math.max(...seqs)).toBe(before[0]!.max);
  }, 240_000);

  it("in the middle of restoring an account into a prefixed copy: the account job is retried and the copy equals its source", async () => {
    const { label } = await submitBackup({ server: "mail1", type: "full", accounts: "all", requestedBy: "test" });
    const session = await waitFor(async () => {
      const row = await prisma().backupSession.findFirstOrThrow({ where: { label } });
      return !["queued", "running"].includes(row.status) && row;
    }, label);
    expect(session.status, session.error ?? "").toBe("completed");
    // Changes after the full, so the restore replays redo on top of the snapshot.
    for (let n = 150; n < 180; n++) await deliverMessage(store, { recipients: ["big@example.com"], bytes: mime(n) });
    await generateTraffic(store, { ops: 60, seed: 9, renames: false, concurrency: 1 });
    const { rows: source } = await store.pool.query("SELECT account_id FROM mailstore.mailbox WHERE email = 'big@example.com'");
    const expected = await exportMailbox(store, { accountId: source[0].account_id });

    const items = Array.from({ length: store.groups }, (_, i) => `${groupSchema(i + 1)}.item`).join(", ");
    const blocker = await holdLock(`LOCK TABLE ${items} IN SHARE MODE`);
    const submitted = await submitRestore({ server: "mail1", accounts: ["big@example.com"], copy: true, prefix: "restart_", requestedBy: "test" });
    if (submitted.dryRun) throw new Error("not a dry run");
    await waitForBlocked("COPY %");
    await cluster!.restartImmediate();
    await blocker.end().catch(() => {});

    const restoreRun = await waitFor(async () => {
      const row = await prisma().restoreRun.findUniqueOrThrow({ where: { id: submitted.runId } });
      return !["queued", "running", "failing"].includes(row.status) && row;
    }, submitted.label);
    expect(restoreRun.status, restoreRun.error ?? "").toBe("completed");
    const accountJob = await jobWhenDone(`restore-${submitted.runId}-account-0`);
    expect(accountJob.attemptsMade).toBeGreaterThanOrEqual(2);
    expect(await accountJob.getState()).toBe("completed");

    const { rows: copy } = await store.pool.query("SELECT account_id FROM mailstore.mailbox WHERE email = 'restart_big@example.com'");
    expect(copy).toHaveLength(1); // one copy, not one per attempt
    expect(await exportMailbox(store, { accountId: copy[0].account_id })).toEqual(expected);
    expect(await prisma().account.count({ where: { email: "restart_big@example.com" } })).toBe(1);
    expect((await verifyRedo(store)).ok).toBe(true);
  }, 240_000);

  it("leaves the workers up and serving", async () => {
    const answer = await pingWorker("mail1", 30_000);
    expect(answer.worker).toBe(workers!.id);
  });
});
