/**
 * 'error' handlers for pg pools and clients. pg emits 'error' on a client whose connection dies
 * while no query is running on it: an idle pooled client (the pool re-emits it), but also a
 * client checked out with `pool.connect()` between two queries (the archiver's locked client, a
 * restore's transaction) or a standalone `pg.Client`. With no listener, Node turns that event into
 * an uncaught exception and the whole worker dies, as it did on every PostgreSQL restart. With
 * one, the dead client is merely unusable: its next query fails, the work it was doing fails
 * with that error (and is retried where the job allows), and the pool drops it on release.
 */
import type pg from "pg";
import { logger } from "../logger.ts";

const log = logger.child({ component: "db" });

function report(name: string) {
  return (error: Error) => log.warn({ pool: name, err: error.message, code: (error as { code?: string }).code }, "database connection lost");
}

/** Listens for 'error' on the pool and on every client it opens, checked out or idle. */
export function guardPool<P extends pg.Pool>(pool: P, name: string): P {
  const onError = report(name);
  pool.on("error", onError);
  pool.on("connect", (client) => client.on("error", onError));
  return pool;
}

/** The same for a standalone client (maintenance, migrations). */
export function guardClient<C extends pg.Client>(client: C, name: string): C {
  client.on("error", report(name));
  return client;
}
