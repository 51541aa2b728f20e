/**
 * Integration tests run against the real PostgreSQL and Redis, each test file in its own
 * database (`mailvault_test_<random>`), BullMQ key prefix and data folder, all removed again by
 * `cleanup()`: only what the test created is dropped.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import pg from "pg";
import { config, databaseName, resetConfig, withDatabase } from "../config.ts";
import { closeConsoleDb } from "../db/console-db.ts";
import { dropDatabase, ensureDatabase } from "../db/databases.ts";
import { migrateDatabase } from "../db/migrate.ts";
import { closeQueues } from "../jobs/queues.ts";
import { closeMailstores } from "../mailstore/mailstore.ts";
import { closeStatusClient, redisOptions } from "../jobs/redis.ts";

export interface TestEnv {
  databaseUrl: string;
  queuePrefix: string;
  dataDir: string;
  cleanup(): Promise<void>;
}

export async function createTestEnv(): Promise<TestEnv> {
  const id = randomBytes(5).toString("hex");
  const databaseUrl = withDatabase(process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres", `mailvault_test_${id}`);
  const queuePrefix = `mvtest_${id}`;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `mailvault-test-${id}-`));
  await ensureDatabase(databaseUrl);
  await migrateDatabase(databaseUrl);
  process.env.DATABASE_URL = databaseUrl;
  process.env.MAILVAULT_QUEUE_PREFIX = queuePrefix;
  process.env.MAILVAULT_DATA_DIR = dataDir;
  resetConfig();

  return {
    databaseUrl,
    queuePrefix,
    dataDir,
    async cleanup() {
      await closeQueues();
      await closeStatusClient();
      await closeConsoleDb();
      await closeMailstores();
      await deleteRedisKeys(`${queuePrefix}:*`);
      await dropDatabasesOf(databaseUrl);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Drops the test's console database and the mailstore databases named after it (`<name>_<server>`). */
export async function dropDatabasesOf(databaseUrl: string): Promise<void> {
  const name = databaseName(databaseUrl);
  const client = new pg.Client({ connectionString: withDatabase(databaseUrl, "postgres") });
  await client.connect();
  const { rows } = await client.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE $1", [`${name}\\_%`]).finally(() => client.end());
  for (const { datname } of rows) await dropDatabase(withDatabase(databaseUrl, datname));
  await dropDatabase(databaseUrl);
}

/** Deletes this test's keys only, by its unique prefix; never FLUSHDB. */
export async function deleteRedisKeys(pattern: string): Promise<void> {
  const redis = new Redis({ ...redisOptions(config().REDIS_URL), maxRetriesPerRequest: 1 });
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}

/**
 * A console user of the given role, signed in: the cookie header a browser would send. Route
 * handler tests put it on their requests, since every API route checks who is asking.
 */
export async function signedInCookie(role: "admin" | "helpdesk", email = `${role}@test.example`): Promise<string> {
  const { createUser, signIn, COOKIE } = await import("../auth/users.ts");
  const password = "correct horse battery";
  await createUser({ email, role, password }).catch((error: { code?: string }) => {
    if (error.code !== "user_exists") throw error;
  });
  const { token } = await signIn(email, password);
  return `${COOKIE}=${token}`;
}

/** A request to a route handler, as the signed-in browser with this cookie would send it. */
export function apiRequest(path: string, cookie: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Request {
  return new Request(`http://localhost${path}`, {
    method: init.method ?? "GET",
    headers: { cookie, "content-type": "application/json", ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
}
