/**
 * whileLocked, the advisory lock a prune and a copy hold, against the real console database: a
 * second holder is refused or waits, a failed work releases the lock, and a lock whose connection
 * is killed tells the work through `held`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestEnv, type TestEnv } from "../testing/test-env.ts";
import { consolePool } from "./console-db.ts";
import { LockLostError, whileLocked } from "./advisory-lock.ts";

let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv();
});

afterAll(async () => {
  await env?.cleanup();
});

class Busy extends Error {}
const busy = () => new Busy("held elsewhere");

/** A promise and the function that settles it, to hand a step from one holder to another. */
function signal(): { done: Promise<void>; fire(): void } {
  let fire!: () => void;
  const done = new Promise<void>((resolve) => (fire = resolve));
  return { done, fire };
}

/** Locks of this test's database only: other test files run alongside, each in a database of its own. */
const IN_THIS_DATABASE = "database = (SELECT oid FROM pg_database WHERE datname = current_database())";

/** The backend holding an advisory lock in this test's database. */
async function lockHolderPid(): Promise<number | undefined> {
  const { rows } = await consolePool().query<{ pid: number }>(`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND ${IN_THIS_DATABASE}`);
  return rows[0]?.pid;
}

describe("whileLocked", () => {
  it("refuses a second holder that does not wait, and lets it in once the first is done", async () => {
    const inside = signal();
    const leave = signal();
    const first = whileLocked("test.lock:a", { wait: true }, async () => {
      inside.fire();
      await leave.done;
      return "first";
    });
    await inside.done;
    await expect(whileLocked("test.lock:a", { busy }, async () => "second")).rejects.toBeInstanceOf(Busy);
    // Another key is not held.
    await expect(whileLocked("test.lock:b", { busy }, async () => "other")).resolves.toBe("other");
    leave.fire();
    await expect(first).resolves.toBe("first");
    await expect(whileLocked("test.lock:a", { busy }, async () => "second")).resolves.toBe("second");
    expect(await lockHolderPid()).toBeUndefined();
  });

  it("makes a waiting holder wait until the first is done", async () => {
    const order: string[] = [];
    const inside = signal();
    const leave = signal();
    const first = whileLocked("test.lock:c", { wait: true }, async () => {
      inside.fire();
      await leave.done;
      order.push("first");
    });
    await inside.done;
    const second = whileLocked("test.lock:c", { wait: true }, async () => {
      order.push("second");
    });
    // The second is waiting on the database, not done: wait until Postgres shows it waiting.
    await expect.poll(async () => (await consolePool().query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND ${IN_THIS_DATABASE}`)).rowCount, { timeout: 30_000 }).toBe(1);
    expect(order).toEqual([]);
    leave.fire();
    await Promise.all([first, second]);
    expect(order).toEqual(["first", "second"]);
  });

  it("releases the lock when the work fails", async () => {
    await expect(whileLocked("test.lock:d", { busy }, async () => Promise.reject(new Error("work failed")))).rejects.toThrow("work failed");
    expect(await lockHolderPid()).toBeUndefined();
    await expect(whileLocked("test.lock:d", { busy }, async () => "again")).resolves.toBe("again");
  });

  it("aborts `held` when the lock's connection is killed, and the lock is free again", async () => {
    const inside = signal();
    let seen: unknown;
    const work = whileLocked("test.lock:e", { wait: true }, async (held) => {
      inside.fire();
      await new Promise<void>((resolve) => held.addEventListener("abort", () => resolve(), { once: true }));
      seen = held.reason;
      held.throwIfAborted();
    });
    // Its failure is taken at once: the killed connection's error can arrive before
    // pg_terminate_backend's answer, and a rejection nothing handles yet fails the run.
    const failure = work.then(() => undefined, (error: unknown) => error);
    await inside.done;
    const pid = await lockHolderPid();
    expect(pid).toBeTypeOf("number");
    await consolePool().query("SELECT pg_terminate_backend($1)", [pid]);
    expect(await failure).toBeInstanceOf(LockLostError);
    expect(seen).toBeInstanceOf(LockLostError);
    await expect(whileLocked("test.lock:e", { busy }, async () => "free")).resolves.toBe("free");
  });
});
