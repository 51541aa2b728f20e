/**
 * Whether an error means "the database connection went away", as opposed to a mistake in the
 * work itself. A PostgreSQL restart surfaces in many shapes: pg's own "Connection terminated
 * unexpectedly", the server's 57P01 (admin shutdown) on a live connection, ECONNREFUSED while it
 * is down, 57P03 (cannot connect now) while it starts, SQLSTATE class 08 from the protocol, and
 * Prisma wrapping any of these (P1001, P1017) with the driver's error as its cause. Work that
 * failed this way is worth retrying once the database is back; anything else is not.
 */
import { MailvaultError } from "../errors.ts";

/** SQLSTATE codes that say the connection or the server, not the statement, failed. */
function isConnectionSqlState(code: string): boolean {
  // Class 08: connection exception. 57P01-57P05: admin/crash shutdown, cannot connect now, ...
  return /^08[0-9A-Z]{3}$/.test(code) || /^57P0[1-5]$/.test(code);
}

const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH"]);
/** Prisma's codes for an unreachable server, a timed-out connect, a closed connection. */
const PRISMA_CODES = new Set(["P1001", "P1002", "P1017"]);

/** Kinds of Prisma's driver adapter errors that mean the connection, not the query, failed. */
const ADAPTER_KINDS = new Set(["ConnectionClosed", "DatabaseNotReachable", "SocketTimeout"]);

const MESSAGES = [
  /connection terminated unexpectedly/i,
  /connection terminated due to connection timeout/i,
  /client has encountered a connection error and is not queryable/i,
  /terminating connection due to administrator command/i,
  /the database system is (starting up|shutting down|in recovery mode)/i,
  /server (has )?closed the connection/i,
  /can't reach database server/i,
  /\bECONNREFUSED\b|\bECONNRESET\b/,
];

export function isTransientDbError(error: unknown, depth = 0): boolean {
  if (error === null || typeof error !== "object" || depth > 5) return false;
  const e = error as {
    code?: unknown;
    message?: unknown;
    cause?: unknown;
    errors?: unknown;
    meta?: { driverAdapterError?: unknown };
    // The cause of Prisma's DriverAdapterError: { kind, originalCode, originalMessage }.
    kind?: unknown;
    originalCode?: unknown;
    originalMessage?: unknown;
  };
  for (const code of [e.code, e.originalCode]) {
    if (typeof code === "string" && (isConnectionSqlState(code) || NETWORK_CODES.has(code) || PRISMA_CODES.has(code))) return true;
  }
  if (typeof e.kind === "string" && ADAPTER_KINDS.has(e.kind)) return true;
  for (const message of [e.message, e.originalMessage]) {
    if (typeof message === "string" && MESSAGES.some((m) => m.test(message))) return true;
  }
  // Wrapped errors: Prisma's driver adapter error, Error.cause, AggregateError (net's happy eyeballs).
  const inner = [e.cause, e.meta?.driverAdapterError, ...(Array.isArray(e.errors) ? e.errors : [])];
  return inner.some((i) => isTransientDbError(i, depth + 1));
}

/**
 * Work cut off by a lost database connection, rethrown so that BullMQ retries the job: the
 * message says what was interrupted and by what, the original error is its cause.
 */
export class DatabaseConnectionLostError extends MailvaultError {
  constructor(what: string, cause: unknown) {
    super("unavailable", "database_connection_lost", `lost the database connection while ${what} (${(cause as Error)?.message ?? String(cause)}); retried when the database is back`);
    this.cause = cause;
  }
}
