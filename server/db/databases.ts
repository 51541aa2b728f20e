/**
 * Creating and dropping whole databases. Mailvault creates only databases whose names start with
 * `mailvault`, and drops only those its caller created (tests drop their own, nothing else).
 */
import pg from "pg";
import { databaseName, withDatabase } from "../config.ts";
import { InvalidInputError } from "../errors.ts";
import { guardClient } from "./guard-connections.ts";

const OURS = /^mailvault[a-z0-9_]*$/;

export function assertOurDatabaseName(name: string): void {
  if (!OURS.test(name)) {
    throw new InvalidInputError(
      `refusing to create database "${name}": Mailvault only creates databases named mailvault[a-z0-9_]*`,
    );
  }
}

async function withMaintenance<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = guardClient(new pg.Client({ connectionString: withDatabase(url, "postgres"), connectionTimeoutMillis: 5_000 }), "maintenance");
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function databaseExists(url: string): Promise<boolean> {
  const name = databaseName(url);
  return withMaintenance(url, async (c) => {
    const { rowCount } = await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    return rowCount === 1;
  });
}

/** Creates the database in `url` when it does not exist. Returns true when it created it. */
export async function ensureDatabase(url: string): Promise<boolean> {
  const name = databaseName(url);
  if (await databaseExists(url)) return false;
  assertOurDatabaseName(name);
  return withMaintenance(url, async (c) => {
    try {
      await c.query(`CREATE DATABASE "${name}"`);
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === "42P04") return false; // created meanwhile
      throw error;
    }
  });
}

/** Drops a database this process created. Only names Mailvault may create are accepted. */
export async function dropDatabase(url: string): Promise<void> {
  const name = databaseName(url);
  assertOurDatabaseName(name);
  await withMaintenance(url, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}
