/**
 * Session advisory locks of the console database, for work that must not run twice at once across
 * workers (a prune of one server's target, a copy to one destination). The lock is held on a
 * connection of its own for the work's length, so a worker that dies releases it with its
 * connection.
 */
import { consolePool } from "./console-db.ts";

export type LockMode =
  /** Wait for whoever holds the lock. */
  | { wait: true }
  /** Do not wait: throw `busy()` when the lock is held. */
  | { busy: () => Error };

/**
 * Runs `work` holding the advisory lock `key` (hashed with hashtext, as createSession's shared
 * try-lock of the prune lock is). Should the lock's connection be lost (the lock goes with it),
 * `held` aborts: the work checks it between steps and stops. A connection whose unlock failed may
 * still hold the lock, so it is closed rather than returned to the pool.
 */
export async function whileLocked<T>(key: string, mode: LockMode, work: (held: AbortSignal) => Promise<T>): Promise<T> {
  const client = await consolePool().connect();
  const lost = new AbortController();
  const onLost = () => lost.abort(new LockLostError(key));
  client.on("error", onLost);
  client.on("end", onLost);
  let unlocked = false;
  try {
    if ("wait" in mode) await client.query("SELECT pg_advisory_lock(hashtext($1))", [key]);
    else {
      const { rows } = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock(hashtext($1)) AS ok", [key]);
      if (!rows[0]!.ok) {
        unlocked = true;
        throw mode.busy();
      }
    }
    try {
      return await work(lost.signal);
    } finally {
      unlocked = await client.query<{ ok: boolean }>("SELECT pg_advisory_unlock(hashtext($1)) AS ok", [key]).then((r) => r.rows[0]!.ok, () => false);
    }
  } finally {
    client.off("error", onLost);
    client.off("end", onLost);
    client.release(unlocked ? undefined : true);
  }
}

/** The reason `held` carries once the lock's connection is gone. */
export class LockLostError extends Error {
  constructor(readonly key: string) {
    super(`lost the lock ${key}: its connection to the console database closed; the work stopped at its next step (run it again)`);
    this.name = "LockLostError";
  }
}
