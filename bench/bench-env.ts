/**
 * What a bench runs in, and its removal whatever happens: a console database
 * `mailvault_bench_<random>` (with the mailstore databases named after it), a BullMQ key prefix
 * `mvbench_<random>` and a temporary data folder.
 *
 * `runBench` sets them up (the console database created and migrated), runs the bench, and then always cleans up, also after a failed step
 * or on SIGINT/SIGTERM. What the bench starts itself (worker sets) it hands to `env.defer`; those
 * close first, in reverse order, so nothing writes into the folder or the databases while they
 * are removed. Every clean-up step runs even when an earlier one failed, and whatever is still
 * there afterwards is named, so a bench never leaves `mailvault_bench*` behind silently.
 */
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rename, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { resetConfig, withDatabase } from "../server/config.ts";
import { closeConsoleDb } from "../server/db/console-db.ts";
import { ensureDatabase } from "../server/db/databases.ts";
import { migrateDatabase } from "../server/db/migrate.ts";
import { closeQueues } from "../server/jobs/queues.ts";
import { closeStatusClient } from "../server/jobs/redis.ts";
import { closeMailstores } from "../server/mailstore/mailstore.ts";
import { deleteRedisKeys, dropDatabasesOf } from "../server/testing/test-env.ts";

export interface BenchEnv {
  consoleUrl: string;
  consoleDatabase: string;
  queuePrefix: string;
  dataDir: string;
  /** Closed before the databases and the folder are removed, last deferred first. */
  defer(close: () => Promise<unknown>): void;
  /**
   * Moves a folder under `dataDir` out of the way, to be removed with the rest when the bench
   * ends, rather than removing it now (nothing when it is not there). This VM's root file system
   * is ext4 without a journal, and such an ext4 does not reuse an inode freed in the last minute
   * (five while its inode table is dirty): each file created after a removal of many first walks
   * past the freed inodes (`recently_deleted` in the kernel's profile). Whichever measure came
   * right after a removal paid for it, and it was always the product's: the restore after the
   * blob volume's removal, the full after the last target's. Journaled file systems do not check.
   */
  discard(folder: string): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Seconds since `started` (a `performance.now()` value). */
export const secondsSince = (started: number) => (performance.now() - started) / 1000;

/** The middle value (the upper one of an even count). */
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Polls `probe` until it returns something truthy (no deadline: a bench may take long). */
export async function until<T>(probe: () => Promise<T | null | undefined | false>, everyMs = 50): Promise<T> {
  for (;;) {
    const value = await probe();
    if (value) return value;
    await sleep(everyMs);
  }
}

export async function runBench(name: string, body: (env: BenchEnv) => Promise<void>): Promise<never> {
  const id = randomBytes(4).toString("hex");
  const consoleDatabase = `mailvault_bench_${id}`;
  const consoleUrl = withDatabase(process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres", consoleDatabase);
  const queuePrefix = `mvbench_${id}`;
  const closers: (() => Promise<unknown>)[] = [];
  let dataDir: string | undefined;

  let cleaning: Promise<void> | undefined;
  const cleanUp = () => (cleaning ??= removeAll());
  async function removeAll() {
    const failed: string[] = [];
    const step = async (what: string, work: () => Promise<unknown>) => {
      await work().catch((error: Error) => failed.push(`${what}: ${error.message}`));
    };
    for (const close of closers.reverse()) await step("closing a worker set", close);
    await step("closing queues", closeQueues);
    await step("closing the status client", closeStatusClient);
    await step("closing mailstores", closeMailstores);
    await step("closing the console database", closeConsoleDb);
    await step(`dropping ${consoleDatabase}*`, () => dropDatabasesOf(consoleUrl));
    await step(`deleting Redis keys ${queuePrefix}:*`, () => deleteRedisKeys(`${queuePrefix}:*`));
    if (dataDir) await step(`removing ${dataDir}`, () => rm(dataDir!, { recursive: true, force: true, maxRetries: 3 }));
    failed.push(...(await leftovers(consoleUrl, consoleDatabase, dataDir)));
    if (failed.length) {
      console.error(`bench:${name} could not clean up everything:\n  ${failed.join("\n  ")}`);
      process.exitCode = 1;
    }
  }

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      console.error(`\nbench:${name}: ${signal}, cleaning up`);
      process.exitCode = 130;
      void cleanUp().finally(() => process.exit(130));
    });
  }

  try {
    dataDir = await mkdtemp(path.join(os.tmpdir(), `mailvault-bench-${name}-`));
    process.env.DATABASE_URL = consoleUrl;
    process.env.MAILVAULT_QUEUE_PREFIX = queuePrefix;
    process.env.MAILVAULT_DATA_DIR = dataDir;
    resetConfig();
    await ensureDatabase(consoleUrl);
    await migrateDatabase(consoleUrl);
    const trash = path.join(dataDir, ".discarded");
    let discarded = 0;
    const discard = async (folder: string) => {
      await mkdir(trash, { recursive: true });
      await rename(folder, path.join(trash, String(discarded++))).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== "ENOENT") throw error;
      });
    };
    await body({ consoleUrl, consoleDatabase, queuePrefix, dataDir, defer: (close) => closers.push(close), discard });
  } catch (error) {
    // After a signal the bench's own steps fail as their database goes away: not news.
    if (!cleaning) {
      console.error(`bench:${name} failed: ${(error as Error).stack ?? error}`);
      process.exitCode = 1;
    }
  } finally {
    await cleanUp();
  }
  process.exit(process.exitCode ?? 0);
}

/** What of the bench is still there after its clean-up (nothing, normally). */
async function leftovers(consoleUrl: string, consoleDatabase: string, dataDir: string | undefined): Promise<string[]> {
  const found: string[] = [];
  const client = new pg.Client({ connectionString: withDatabase(consoleUrl, "postgres") });
  try {
    await client.connect();
    const { rows } = await client.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname = $1 OR datname LIKE $2", [consoleDatabase, `${consoleDatabase}\\_%`]);
    found.push(...rows.map((r) => `database ${r.datname} is still there`));
  } catch (error) {
    found.push(`could not check for leftover databases: ${(error as Error).message}`);
  } finally {
    await client.end().catch(() => {});
  }
  if (dataDir && (await stat(dataDir).then(() => true, () => false))) found.push(`folder ${dataDir} is still there`);
  return found;
}
