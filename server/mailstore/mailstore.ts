/**
 * A handle on one server's mailstore: its database pool, group count and blob volume. Opened
 * once per process per server (`openMailstore`), closed with `closeMailstores`.
 */
import pg from "pg";
import { guardPool } from "../db/guard-connections.ts";
import { getServer } from "../directory/list-servers.ts";
import { BlobStore } from "./blob-store.ts";
import { mailstoreUrl } from "./schema.ts";

const BIGINT_OID = 20;
const BIGINT_ARRAY_OID = 1016;

function parseBigint(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`bigint ${value} does not fit a JavaScript number`);
  return n;
}

function bigintsAsNumbers(oid: number, format?: "text" | "binary") {
  if (oid === BIGINT_OID) return parseBigint;
  if (oid === BIGINT_ARRAY_OID) {
    const parseArray = pg.types.getTypeParser(BIGINT_ARRAY_OID as never, "text") as (value: string) => string[];
    return (value: string) => parseArray(value).map(parseBigint);
  }
  return pg.types.getTypeParser(oid, format);
}

export interface MailstoreServer {
  name: string;
  mailstoreDatabase: string;
  blobVolumePath: string;
  redoArchivePath: string;
}

export interface Mailstore {
  server: string;
  database: string;
  pool: pg.Pool;
  groups: number;
  blobs: BlobStore;
  redoArchivePath: string;
  /**
   * Benchmark-only: when false, operations write no redo record. Nothing else may turn it off:
   * without redo, backups cannot roll forward and archives have holes.
   */
  redo: boolean;
}

export async function createMailstore(server: MailstoreServer, options: { redo?: boolean; poolSize?: number } = {}): Promise<Mailstore> {
  const pool = new pg.Pool({
    connectionString: mailstoreUrl(server.mailstoreDatabase),
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 5_000,
    application_name: `mailvault:${server.name}`,
    // Ids, sizes and sequence numbers are bigint columns that stay far below 2^53: read them as numbers.
    types: { getTypeParser: bigintsAsNumbers as typeof pg.types.getTypeParser },
  });
  // A dropped connection, idle or checked out, fails the query that needed it, not the process.
  guardPool(pool, `mailstore:${server.name}`);
  try {
    const { rows } = await pool.query<{ value: number }>("SELECT value FROM mailstore.config WHERE key = 'groups'");
    if (!rows[0]) throw new Error(`mailstore ${server.mailstoreDatabase} is not initialised`);
    return {
      server: server.name,
      database: server.mailstoreDatabase,
      pool,
      groups: rows[0].value,
      blobs: new BlobStore(server.blobVolumePath),
      redoArchivePath: server.redoArchivePath,
      redo: options.redo ?? true,
    };
  } catch (error) {
    await pool.end();
    throw error;
  }
}

const holder = globalThis as unknown as { __mailvaultMailstores?: Map<string, Promise<Mailstore>> };

export function openMailstore(serverName: string): Promise<Mailstore> {
  holder.__mailvaultMailstores ??= new Map();
  let store = holder.__mailvaultMailstores.get(serverName);
  if (!store) {
    store = getServer(serverName).then((server) => createMailstore(server));
    store.catch(() => holder.__mailvaultMailstores?.delete(serverName));
    holder.__mailvaultMailstores.set(serverName, store);
  }
  return store;
}

export async function closeMailstores(): Promise<void> {
  const stores = [...(holder.__mailvaultMailstores?.values() ?? [])];
  holder.__mailvaultMailstores = undefined;
  await Promise.all(stores.map((s) => s.then((store) => store.pool.end(), () => {})));
}
