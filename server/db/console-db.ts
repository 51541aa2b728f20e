/**
 * The console database: one pg pool per process, shared by Prisma (through its pg adapter) and by
 * the few bulk paths that need plain SQL (seeding, search).
 */
import pg from "pg";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/client.ts";
import { config } from "../config.ts";
import { guardPool } from "./guard-connections.ts";

interface ConsoleDb {
  pool: pg.Pool;
  prisma: PrismaClient;
}

// Kept on globalThis so Next's dev reloads do not open a new pool per edit.
const holder = globalThis as unknown as { __mailvaultConsoleDb?: ConsoleDb };

function open(): ConsoleDb {
  if (!holder.__mailvaultConsoleDb) {
    // A client losing its connection (a restart of Postgres), idle or checked out, must not
    // crash the process: the query that needed it fails instead. Prisma's adapter uses this pool.
    // TCP keepalive lets a connection that died silently (a host gone, a firewall) end, and an
    // advisory lock held on it (advisory-lock.ts) be given up, rather than be believed held.
    const pool = guardPool(
      new pg.Pool({ connectionString: config().DATABASE_URL, max: 10, connectionTimeoutMillis: 5_000, application_name: "mailvault", keepAlive: true }),
      "console",
    );
    const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
    holder.__mailvaultConsoleDb = { pool, prisma };
  }
  return holder.__mailvaultConsoleDb;
}

export function prisma(): PrismaClient {
  return open().prisma;
}

export function consolePool(): pg.Pool {
  return open().pool;
}

/** Runs `work` in one transaction on a connection of the console pool: committed, or rolled back and rethrown. */
export async function inConsoleTransaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await consolePool().connect();
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

export async function closeConsoleDb(): Promise<void> {
  const current = holder.__mailvaultConsoleDb;
  holder.__mailvaultConsoleDb = undefined;
  if (current) {
    await current.prisma.$disconnect();
    await current.pool.end();
  }
}
