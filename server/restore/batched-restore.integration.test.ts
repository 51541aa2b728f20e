/**
 * A restore of many accounts in place runs them in batches, each batch one job and one
 * transaction. The batches give every mailbox back exactly; an account that cannot be restored
 * fails alone (the rest of its batch is restored one at a time after the batch rolls back).
 */
import { createHash } from "node:crypto";
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { startWorkers } from "../../workers/start-workers.ts";
import { BackupTarget } from "../backup/target.ts";
import { consolePool, prisma } from "../db/console-db.ts";
import { generateTraffic } from "../demo/generate-traffic.ts";
import { getServer } from "../directory/list-servers.ts";
import { getJob } from "../jobs/get-job.ts";
import { deliverMessage } from "../mailstore/deliver-message.ts";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { archiveRedo } from "../redo/archive-redo.ts";
import { useMailServer } from "../testing/mail-server-fixture.ts";
import { backupsSettled, runBackup, waitFor } from "../testing/wait-for-runs.ts";
import { exportMailbox, type CanonicalExport } from "./export-mailbox.ts";
import { accountJobs, finishRestoreRun, restoreRunAccounts, type AccountOutcome } from "./run-restore.ts";
import { submitRestore } from "./submit-restore.ts";

const ACCOUNTS = 36;
const fx = useMailServer({ settings: { mailboxGroups: 2 }, accounts: { prefix: "bat", count: ACCOUNTS }, traffic: { ops: 300, seed: 41 }, workers: startWorkers });
let store: Mailstore;

async function exportsOf(where: string, params: unknown[]): Promise<Map<string, CanonicalExport>> {
  const { rows } = await store.pool.query<{ account_id: string }>(`SELECT account_id FROM mailstore.mailbox WHERE ${where} ORDER BY id`, params);
  const out = new Map<string, CanonicalExport>();
  for (const r of rows) out.set(r.account_id, await exportMailbox(store, { accountId: r.account_id }));
  return out;
}

async function settledRun(runId: number) {
  const run = await waitFor(async () => {
    const r = await prisma().restoreRun.findUniqueOrThrow({ where: { id: runId } });
    return !["queued", "running", "failing"].includes(r.status) && r;
  }, `restore run ${runId}`, 180_000);
  await backupsSettled();
  return run;
}

beforeAll(async () => {
  store = fx.store;
  await runBackup("mail1", "full");
  // Changes after the full: part archived, part still in the current log.
  await generateTraffic(store, { ops: 200, seed: 42, renames: false, concurrency: 2 });
  await archiveRedo(store, { force: true, maxBytes: 1, maxAgeSeconds: 1 });
  await generateTraffic(store, { ops: 200, seed: 43, renames: false, concurrency: 2 });
}, 180_000);

describe("a restore of many accounts in place", () => {
  it("rebuilds a dropped mailbox group in batches of several accounts, every mailbox identical", async () => {
    const before = await exportsOf("group_id = 1", []);
    expect(before.size).toBeGreaterThanOrEqual(16);
    // The group's message files go with it, but for those of deliveries still in the current log
    // (until sealed, their bytes are only in the volume): the batches bring back the snapshots'
    // from the backup and the later deliveries' from the archived redo.
    const digests = async () => (await store.pool.query<{ d: string }>("SELECT DISTINCT blob_digest AS d FROM mboxgroup1.item WHERE blob_digest IS NOT NULL")).rows.map((r) => r.d);
    const unsealed = new Set((await store.pool.query<{ d: string }>("SELECT payload->>'digest' AS d FROM mailstore.redo_log WHERE op = 'DeliverMessage'")).rows.map((r) => r.d));
    const files = await digests();
    const removed = files.filter((d) => !unsealed.has(d));
    expect(removed.length).toBeGreaterThan(50);
    for (const d of removed) await rm(store.blobs.path(d));
    await store.pool.query("DROP SCHEMA mboxgroup1 CASCADE");
    const submitted = await submitRestore({ server: "mail1", group: 1, requestedBy: "test" });
    if (submitted.dryRun) throw new Error("expected a run");
    const run = await settledRun(submitted.runId);
    expect(run.status, run.error ?? "").toBe("completed");
    expect(await exportsOf("group_id = 1", [])).toEqual(before);
    expect((await digests()).sort()).toEqual(files.sort());
    for (const d of files) expect(createHash("sha256").update(await readFile(store.blobs.path(d))).digest("hex")).toBe(d);

    // Fewer jobs than accounts: the batches did the work. The plan knows each snapshot's rows, which cap a batch.
    expect(submitted.plan.accounts.every((a) => (a.snapshot?.items ?? 0) > 0)).toBe(true);
    const jobs = accountJobs(submitted.plan);
    expect(jobs.length).toBeLessThan(before.size);
    expect((await getJob(`restore-${submitted.runId}`, "mail1")).job.result).toEqual({ accounts: before.size, jobs: jobs.length });
    const restored = (run.result as { restored: { accountId: string; markerSeq: number; batch?: number }[] }).restored;
    expect(new Set(restored.map((r) => r.accountId))).toEqual(new Set(before.keys()));
    // Every batch did its accounts' work itself (none fell back to one account at a time).
    for (const job of jobs) {
      for (const a of submitted.plan.accounts.slice(job.index, job.index + job.count)) expect(restored.find((r) => r.accountId === a.accountId)!.batch).toBe(job.count > 1 ? job.count : undefined);
    }

    // A retry of a batch whose transaction had committed (its connection lost just after) finds
    // each account's work and does not restore it again.
    const batch = jobs.find((j) => j.count > 1)!;
    const markers = async () => (await store.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM mailstore.redo_log WHERE op = 'RestoreMailbox'")).rows[0]!.n;
    const markersBefore = await markers();
    await consolePool().query("UPDATE restore_run SET status = 'running' WHERE id = $1", [submitted.runId]);
    try {
      const again = await restoreRunAccounts(submitted.runId, batch, { made: 1, max: 4 });
      const expected = submitted.plan.accounts.slice(batch.index, batch.index + batch.count);
      expect(again.map((o) => ("markerSeq" in o ? o.accountId : o))).toEqual(expected.map((a) => a.accountId));
      for (const o of again) expect(o).toMatchObject({ markerSeq: restored.find((r) => "accountId" in o && r.accountId === o.accountId)!.markerSeq });
    } finally {
      await consolePool().query("UPDATE restore_run SET status = 'completed' WHERE id = $1", [submitted.runId]);
    }
    expect(await markers()).toBe(markersBefore);

    // A batch job lost after its transaction committed (a worker killed before it reported):
    // the finish finds its accounts' work and counts them restored, not lost.
    const batchIds = new Set(submitted.plan.accounts.slice(batch.index, batch.index + batch.count).map((a) => a.accountId));
    const reported = (restored as unknown as AccountOutcome[]).filter((r) => !("accountId" in r && batchIds.has(r.accountId)));
    const finished = await finishRestoreRun(submitted.runId, reported, [{ index: batch.index, reason: "job stalled more than allowable limit" }]);
    expect(finished.status).toBe("completed");
    const after = await prisma().restoreRun.findUniqueOrThrow({ where: { id: submitted.runId } });
    const result = after.result as { restored: { accountId: string }[]; notRestored: unknown[]; failures: string[] };
    expect(new Set(result.restored.map((r) => r.accountId))).toEqual(new Set(before.keys()));
    expect(result.notRestored).toEqual([]);
    expect(result.failures).toEqual([]);
    await backupsSettled();
  });

  it("with -c, fails an account with a damaged dump alone and restores the rest of its batch", async () => {
    const before = await exportsOf("true", []);
    const { rows } = await store.pool.query<{ email: string; account_id: string }>("SELECT email, account_id FROM mailstore.mailbox ORDER BY email");
    const emails = rows.map((r) => r.email);
    // The second account of a batch, so the batch holds a good account with it.
    const dry = await submitRestore({ server: "mail1", accounts: emails, continueOnError: true, dryRun: true, requestedBy: "test" });
    const jobs = accountJobs(dry.plan);
    const batch = jobs.find((j) => j.count >= 2)!;
    const bad = rows.find((r) => r.account_id === dry.plan.accounts[batch.index + 1]!.accountId)!;

    // The follow-up full of the group rebuild is now the newest snapshot of every account in group 1.
    const snapshotOf = async (accountId: string) => {
      const dry = await submitRestore({ server: "mail1", accounts: [accountId], dryRun: true, requestedBy: "test" });
      return dry.plan.accounts[0]!.snapshot!.session;
    };
    const target = new BackupTarget((await getServer("mail1")).backupTarget, "mail1");
    const file = path.join(target.root, await target.sessionFileObject(await snapshotOf(bad.account_id), `accounts/${bad.account_id}/items.copy.gz`));
    const original = await readFile(file);
    const damaged = Buffer.from(original);
    const at = damaged.length >> 1;
    damaged[at] = damaged[at]! ^ 0x5a;
    await writeFile(file, damaged);
    try {
      const submitted = await submitRestore({ server: "mail1", accounts: emails, continueOnError: true, requestedBy: "test" });
      if (submitted.dryRun) throw new Error("expected a run");
      expect(submitted.plan.accounts.map((a) => a.target.email)).toEqual(emails);
      const run = await settledRun(submitted.runId);
      expect(run.status).toBe("partial");
      const result = run.result as { restored: { accountId: string }[]; failures: string[] };
      expect(result.failures).toHaveLength(1);
      expect(result.failures[0]).toContain(`${bad.email}: `);
      expect(result.failures[0]).toContain("items.copy.gz of ");
      expect(result.failures[0]).toContain(") is damaged");
      expect(result.restored.map((r) => r.accountId).sort()).toEqual(rows.filter((r) => r !== bad).map((r) => r.account_id).sort());
      // The bad account's batch fell back to one account at a time; every other batch ran whole.
      expect(accountJobs(submitted.plan)).toEqual(jobs);
      for (const job of jobs) {
        for (const a of submitted.plan.accounts.slice(job.index, job.index + job.count)) {
          if (a.accountId === bad.account_id) continue;
          const r = (result.restored as { accountId: string; batch?: number }[]).find((x) => x.accountId === a.accountId)!;
          expect(r.batch, a.requested).toBe(job === batch || job.count === 1 ? undefined : job.count);
        }
      }
    } finally {
      await writeFile(file, original);
    }
    // Every mailbox as it was, the failed one kept untouched and its account active.
    expect(await exportsOf("true", [])).toEqual(before);
    expect((await prisma().account.findUniqueOrThrow({ where: { id: bad.account_id } })).status).toBe("active");
  });

  it("loses no delivery that committed while intact mailboxes are restored in place in batches under live traffic", async () => {
    const { rows: members } = await store.pool.query<{ email: string }>("SELECT email FROM mailstore.mailbox ORDER BY email");
    expect(members.length).toBe(ACCOUNTS);
    const before = await exportsOf("true", []);
    const submitted = await submitRestore({ server: "mail1", accounts: members.map((m) => m.email), requestedBy: "test" });
    if (submitted.dryRun) throw new Error("expected a run");

    // Deliveries to the mailboxes being restored (some to two of them at once) until the run
    // ends: those that commit must all be there afterwards; the others were refused, not lost.
    const committed: { email: string; subject: string }[] = [];
    let ended = false;
    let n = 0;
    const traffic = (async () => {
      while (!ended) {
        const subject = `live ${n++}`;
        const recipients = [members[n % members.length]!.email, ...(n % 3 === 0 ? [members[(n + 7) % members.length]!.email] : [])];
        const result = await deliverMessage(store, { recipients, bytes: Buffer.from(`From: x@example.net\r\nSubject: ${subject}\r\n\r\n${subject}\r\n`) }).catch(() => null);
        for (const d of result?.delivered ?? []) committed.push({ email: d.recipient, subject });
      }
    })();
    const run = await settledRun(submitted.runId).finally(() => (ended = true));
    await traffic;
    expect(run.status, run.error ?? "").toBe("completed");
    // Every account was restored by its batch, not one at a time after the batch failed.
    const restored = (run.result as { restored: { accountId: string; batch?: number }[] }).restored;
    for (const job of accountJobs(submitted.plan)) {
      for (const a of submitted.plan.accounts.slice(job.index, job.index + job.count)) expect(restored.find((r) => r.accountId === a.accountId)?.batch).toBe(job.count > 1 ? job.count : undefined);
    }
    expect(committed.length).toBeGreaterThan(0);
    for (const c of committed) {
      const { rows } = await store.pool.query("SELECT 1 FROM mailstore.mailbox m WHERE m.email = $1 AND EXISTS (SELECT 1 FROM mboxgroup1.item i WHERE i.mailbox_id = m.id AND i.subject = $2 UNION ALL SELECT 1 FROM mboxgroup2.item i WHERE i.mailbox_id = m.id AND i.subject = $2)", [c.email, c.subject]);
      expect(rows, `${c.subject} to ${c.email}`).toHaveLength(1);
    }
    // Apart from the deliveries made during the restore, every mailbox as it was.
    const after = await exportsOf("true", []);
    for (const [id, mailbox] of before) {
      const now = after.get(id)!;
      expect({ ...now, messages: now.messages.filter((m) => !/\|live \d+$/.test(m)) }).toEqual(mailbox);
    }
  });
});
