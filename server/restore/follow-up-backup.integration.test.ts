/**
 * A restore's follow-up full backup is never dropped: four restores into copies end while a full
 * backup of the server is held running, and each says it waits for that backup. Once it ends,
 * every copy gets a completed full backup: its own, or that backup when it took the copy in.
 */
import type { PoolClient } from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import { startWorkers } from "../../workers/start-workers.ts";
import { submitBackup } from "../backup/submit-backup.ts";
import { consolePool, prisma } from "../db/console-db.ts";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { useMailServer } from "../testing/mail-server-fixture.ts";
import { backupsSettled, runBackup, waitFor } from "../testing/wait-for-runs.ts";
import { settleEarlierAttempt } from "./earlier-attempt.ts";
import { submitRestore } from "./submit-restore.ts";

// A group per mailbox, so the lock that holds the backup blocks no copy.
const fx = useMailServer({ settings: { mailboxGroups: 100 }, accounts: { prefix: "conc", count: 5 }, traffic: { ops: 150, seed: 8 }, workers: startWorkers, concurrency: 3 });
let store: Mailstore;
let accounts: { accountId: string; email: string }[];

beforeAll(async () => {
  ({ store, accounts } = fx);
  await runBackup("mail1", "full");
}, 120_000);

/** Four restores into copies, submitted at once; each run's outcome once its follow-up settles. */
async function restoreCopies(prefix: string) {
  return Promise.all(
    accounts.slice(1).map(async (a, i) => {
      const submitted = await submitRestore({ server: "mail1", accounts: [a.email], copy: true, prefix: `${prefix}${i}_`, requestedBy: "test" });
      if (submitted.dryRun) throw new Error("expected a run");
      return submitted;
    }),
  );
}

async function followUpOf(runId: number, pattern: RegExp): Promise<string> {
  const row = await waitFor(async () => {
    const r = await prisma().restoreRun.findUniqueOrThrow({ where: { id: runId } });
    return pattern.test(String((r.result as { fullBackup?: string } | null)?.fullBackup)) && r;
  }, `run ${runId}'s follow-up backup to match ${pattern}`, 150_000);
  expect(row.status).toBe("completed");
  return (row.result as { fullBackup: string }).fullBackup;
}

async function completedFullOf(email: string): Promise<string> {
  return waitFor(async () => {
    const { rows } = await consolePool().query<{ label: string }>(
      `SELECT s.label FROM session_account sa JOIN backup_session s ON s.id = sa.session_id JOIN account a ON a.id = sa.account_id
        WHERE a.email = $1 AND sa.kind = 'full' AND s.status = 'completed' ORDER BY s.id LIMIT 1`,
      [email],
    );
    return rows[0]?.label;
  }, `a completed full backup of ${email}`, 150_000);
}

/** Runs `work` while `hold` keeps a lock in its own transaction; the lock goes when `work` returns or throws. */
async function holding<T>(client: PoolClient, lock: string, work: (release: () => Promise<void>) => Promise<T>): Promise<T> {
  await client.query("BEGIN");
  await client.query(lock);
  let held = true;
  const release = async () => {
    if (held) await client.query("COMMIT");
    held = false;
  };
  try {
    return await work(release);
  } finally {
    if (held) await client.query("ROLLBACK").catch(() => {});
    client.release();
  }
}

describe("follow-up backups after restores", () => {
  it("waits for a full backup that runs, then queues its own for every copy", { timeout: 300_000 }, async () => {
    // The running backup has chosen its accounts and snapshotted them; it is held where it
    // records them in the catalog, so the copies made meanwhile are not in it.
    await holding(await consolePool().connect(), "LOCK TABLE session_account IN SHARE MODE", async (release) => {
      const running = await submitBackup({ server: "mail1", type: "full", accounts: "all", requestedBy: "test" });
      await waitFor(async () => (await prisma().backupSession.findFirstOrThrow({ where: { label: running.label } })).accountsDone === 5, "the held backup to snapshot its accounts");
      const runs = await restoreCopies("w");
      for (const r of runs) expect(await followUpOf(r.runId, /^waiting for /)).toBe(`waiting for ${running.label} to end, then queued`);
      expect((await prisma().backupSession.findFirstOrThrow({ where: { label: running.label } })).status).toBe("running");
      await release();
      for (const r of runs) {
        const queued = await followUpOf(r.runId, /^queued full-/);
        expect(await completedFullOf(r.plan.accounts[0]!.target.email)).toBe(queued.replace(/^queued /, ""));
      }
    });
    await backupsSettled();
  });

  it("says so when the backup it waited for took the copies in itself", { timeout: 300_000 }, async () => {
    // Held before it chooses its accounts (sealing the redo waits for the lock's transaction),
    // the backup takes in the copies restored meanwhile: no further backup is needed.
    const { rows } = await store.pool.query<{ group_id: number }>("SELECT group_id FROM mailstore.mailbox WHERE account_id = $1", [accounts[0]!.accountId]);
    await holding(await store.pool.connect(), `LOCK TABLE mboxgroup${rows[0]!.group_id}.item IN ACCESS EXCLUSIVE MODE`, async (release) => {
      const running = await submitBackup({ server: "mail1", type: "full", accounts: "all", requestedBy: "test" });
      await waitFor(async () => (await prisma().backupSession.findFirstOrThrow({ where: { label: running.label } })).status === "running", "the held backup to run");
      const runs = await restoreCopies("i");
      for (const r of runs) expect(await followUpOf(r.runId, /^waiting for /)).toBe(`waiting for ${running.label} to end, then queued`);
      await release();
      for (const r of runs) {
        expect(await followUpOf(r.runId, /^included in /)).toBe(`included in ${running.label}`);
        expect(await completedFullOf(r.plan.accounts[0]!.target.email)).toBe(running.label);
      }
    });
    await backupsSettled();
  });

  it("a retried account job finds the work of an attempt that committed before its connection was lost", async () => {
    const [r] = await restoreCopies("retry");
    const account = r!.plan.accounts[0]!;
    const run = await waitFor(async () => {
      const row = await prisma().restoreRun.findUniqueOrThrow({ where: { id: r!.runId } });
      return row.status === "completed" && row;
    }, "the copy restore");
    // Both halves committed: the retry returns what was done instead of restoring again.
    const settled = await settleEarlierAttempt(store, run, account);
    expect(settled).toMatchObject({ target: account.target.email, requested: account.requested });
    expect(settled!.snapshotItems).toBeGreaterThan(0);
    await backupsSettled();
    // Only the mailstore half committed (the copy's directory entry rolled back): its mailbox is
    // an orphan, removed so the retry starts from a clean state.
    await consolePool().query("DELETE FROM session_account WHERE account_id = (SELECT id FROM account WHERE email = $1)", [account.target.email]);
    await consolePool().query("DELETE FROM account WHERE email = $1", [account.target.email]);
    expect(await settleEarlierAttempt(store, run, account)).toBeNull();
    const { rows } = await store.pool.query("SELECT 1 FROM mailstore.mailbox WHERE email = $1", [account.target.email]);
    expect(rows).toHaveLength(0);
  });
});
