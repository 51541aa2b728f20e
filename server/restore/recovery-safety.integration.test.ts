/**
 * Recovery never destroys what it cannot restore. An account created after the last full backup
 * comes back from redo alone, identical, after its mailbox group is dropped and after the whole
 * server is lost; an account whose redo is gone is named as not restored, the run exits non-zero,
 * and its mailbox is kept when intact or its account put in maintenance when broken.
 */
import { execFile } from "node:child_process";
import { rm } from "node:fs/promises";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { startWorkers } from "../../workers/start-workers.ts";
import { withDatabase } from "../config.ts";
import { prisma } from "../db/console-db.ts";
import { dropDatabase } from "../db/databases.ts";
import { generateTraffic } from "../demo/generate-traffic.ts";
import { getServer } from "../directory/list-servers.ts";
import { createAccount } from "../mailstore/account-operations.ts";
import { deliverMessage } from "../mailstore/deliver-message.ts";
import { closeMailstores, openMailstore, type Mailstore } from "../mailstore/mailstore.ts";
import { archiveRedo } from "../redo/archive-redo.ts";
import { useMailServer } from "../testing/mail-server-fixture.ts";
import { backupsSettled, runBackup, waitFor } from "../testing/wait-for-runs.ts";
import { checkMailbox } from "./check-mailbox.ts";
import { exportMailbox, type CanonicalExport } from "./export-mailbox.ts";
import { playRedo } from "./play-redo.ts";
import { restoreServer } from "./restore-server.ts";
import { submitRestore } from "./submit-restore.ts";

// Two mailbox groups, so a dropped group holds accounts with a full backup and accounts without.
const fx = useMailServer({ settings: { mailboxGroups: 2 }, accounts: { prefix: "early", count: 4 }, traffic: { ops: 120, seed: 3 }, workers: startWorkers });
let store: Mailstore;

const mime = (subject: string) => Buffer.from(`From: x@example.net\r\nSubject: ${subject}\r\n\r\n${subject} body\r\n`);

async function mailvault(...args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await promisify(execFile)("./bin/mailvault", args, { env: process.env });
    return { code: 0, stdout };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: `${e.stdout}${e.stderr}` };
  }
}

async function settledRun(runId: number) {
  return waitFor(async () => {
    const r = await prisma().restoreRun.findUniqueOrThrow({ where: { id: runId } });
    return !["queued", "running", "failing"].includes(r.status) && r;
  }, `restore run ${runId}`, 120_000);
}

/** A run's follow-up full backup has been queued and every backup has ended. */
async function followUpDone(runId: number): Promise<void> {
  await waitFor(async () => {
    const r = await prisma().restoreRun.findUniqueOrThrow({ where: { id: runId } });
    return /^queued /.test(String((r.result as { fullBackup?: string } | null)?.fullBackup));
  }, `the follow-up backup of run ${runId}`, 120_000);
  await backupsSettled();
}

async function groupOf(accountId: string): Promise<number> {
  const { rows } = await store.pool.query<{ group_id: number }>("SELECT group_id FROM mailstore.mailbox WHERE account_id = $1", [accountId]);
  return rows[0]!.group_id;
}

async function exportsOfGroup(group: number): Promise<Map<string, CanonicalExport>> {
  const { rows } = await store.pool.query<{ account_id: string }>("SELECT account_id FROM mailstore.mailbox WHERE group_id = $1 ORDER BY id", [group]);
  const out = new Map<string, CanonicalExport>();
  for (const r of rows) out.set(r.account_id, await exportMailbox(store, { accountId: r.account_id }));
  return out;
}

beforeAll(async () => {
  store = fx.store;
  await runBackup("mail1", "full");
}, 120_000);

describe("recovery without data loss", () => {
  it("rebuilds an account created after the last full from redo alone when its group is dropped", async () => {
    const late = await createAccount(store, { email: "late@example.com" });
    await generateTraffic(store, { ops: 100, seed: 21, renames: false, concurrency: 1, accountIds: [late.accountId] });
    // Part of its history sealed into the archive, the rest still in the current log.
    await archiveRedo(store, { force: true, maxBytes: 1, maxAgeSeconds: 1 });
    await generateTraffic(store, { ops: 100, seed: 22, renames: false, concurrency: 1, accountIds: [late.accountId] });
    await generateTraffic(store, { ops: 40, seed: 23, renames: false, concurrency: 2 });
    const group = await groupOf(late.accountId);
    const before = await exportsOfGroup(group);
    expect(before.size).toBeGreaterThan(1);
    expect(before.get(late.accountId)!.messages.length).toBeGreaterThan(10);

    await store.pool.query(`DROP SCHEMA mboxgroup${group} CASCADE`); // seed 000's disaster
    const submitted = await submitRestore({ server: "mail1", group, requestedBy: "test" });
    if (submitted.dryRun) throw new Error("expected a run");
    const plan = submitted.plan.accounts.find((a) => a.accountId === late.accountId);
    if (!plan) throw new Error(`late@example.com left out of the plan: ${JSON.stringify(submitted.plan.skipped)}`);
    expect(plan.snapshot).toBeNull();
    expect(plan.fromCreate?.seq).toBeGreaterThan(0);
    expect(submitted.plan.warnings.join("\n")).toContain("late@example.com: no full backup at or before the point; rebuilt from redo alone");
    const run = await settledRun(submitted.runId);
    expect(run.status, run.error ?? "").toBe("completed");
    expect((run.result as { summary: string }).summary).toBe(`${before.size} restored`);
    expect(await exportsOfGroup(group)).toEqual(before);

    // The mailbox takes mail again.
    const delivered = await deliverMessage(store, { recipients: ["late@example.com"], bytes: mime("after the rebuild") });
    expect(delivered.delivered).toHaveLength(1);
    await followUpDone(submitted.runId);
  });

  it("names an account it cannot restore, exits non-zero, keeps an intact mailbox and puts a broken one in maintenance", async () => {
    const orphan = await createAccount(store, { email: "orphan@example.com" });
    await generateTraffic(store, { ops: 30, seed: 31, renames: false, concurrency: 1, accountIds: [orphan.accountId] });
    // Its creation is no longer held anywhere: nothing can rebuild it.
    await store.pool.query("DELETE FROM mailstore.redo_log WHERE account_id = $1 AND op = 'CreateMailbox'", [orphan.accountId]);
    const group = await groupOf(orphan.accountId);
    const intact = await exportMailbox(store, { accountId: orphan.accountId });

    // The group is intact: the orphan's mailbox is left exactly as it is.
    const kept = await mailvault("restore", "--group", String(group), "-s", "mail1", "--wait");
    expect(kept.code, kept.stdout).not.toBe(0);
    const lastLine = kept.stdout.trim().split("\n").at(-1)!;
    expect(lastLine).toMatch(/^\d+ restored, 1 not restored: orphan@example.com \(no full backup of orphan@example.com at or before the restore point, and the redo no longer holds its creation\)$/);
    expect(await exportMailbox(store, { accountId: orphan.accountId })).toEqual(intact);
    expect((await prisma().account.findUniqueOrThrow({ where: { id: orphan.accountId } })).status).toBe("active");
    await followUpDone((await prisma().restoreRun.findFirstOrThrow({ orderBy: { id: "desc" } })).id);

    // The group is lost: its account goes into maintenance, with the reason, and the run is partial.
    await store.pool.query(`DROP SCHEMA mboxgroup${group} CASCADE`);
    const lost = await submitRestore({ server: "mail1", group, requestedBy: "test" });
    if (lost.dryRun) throw new Error("expected a run");
    const run = await settledRun(lost.runId);
    expect(run.status).toBe("partial");
    expect(run.error).toMatch(/1 not restored: orphan@example.com \(.*; put in maintenance\)$/);
    const account = await prisma().account.findUniqueOrThrow({ where: { id: orphan.accountId } });
    expect(account.status).toBe("maintenance");
    expect(account.statusReason).toMatch(new RegExp(`^${run.label} could not restore it .* and its mailbox has lost 7 of its 7 system folders`));
    await followUpDone(lost.runId);
  });

  it("finds a mailbox emptied under its row, and playredo --from-create rebuilds it from its whole history", async () => {
    const account = await createAccount(store, { email: "rebuilt@example.com" });
    await generateTraffic(store, { ops: 60, seed: 51, renames: false, concurrency: 1, accountIds: [account.accountId] });
    await archiveRedo(store, { force: true, maxBytes: 1, maxAgeSeconds: 1 });
    await generateTraffic(store, { ops: 20, seed: 52, renames: false, concurrency: 1, accountIds: [account.accountId] });
    const before = await exportMailbox(store, { accountId: account.accountId });
    const { rows } = await store.pool.query<{ id: number; group_id: number }>("SELECT id, group_id FROM mailstore.mailbox WHERE account_id = $1", [account.accountId]);
    await store.pool.query(`DELETE FROM mboxgroup${rows[0]!.group_id}.item WHERE mailbox_id = $1`, [rows[0]!.id]);

    const check = await checkMailbox(store, "rebuilt@example.com");
    expect(check.problems.filter((p) => p.kind === "system-folder")).toHaveLength(7);
    // The row says it is at its last change: a plain playredo has nothing to do.
    expect((await playRedo({ server: "mail1", mailbox: "rebuilt@example.com" })).applied).toBe(0);
    const rebuilt = await playRedo({ server: "mail1", mailbox: "rebuilt@example.com", fromCreate: true, stopOnError: true });
    expect(rebuilt.gaps).toEqual([]);
    expect(await exportMailbox(store, { accountId: account.accountId })).toEqual(before);
    expect((await checkMailbox(store, "rebuilt@example.com")).ok).toBe(true);

    // reconstruct (an in-place restore to the last change) repairs the same damage from redo alone.
    await store.pool.query(`DELETE FROM mboxgroup${rows[0]!.group_id}.item WHERE mailbox_id = $1`, [rows[0]!.id]);
    const reconstruct = await mailvault("reconstruct", "-s", "mail1", "-a", "rebuilt@example.com");
    expect(reconstruct.code, reconstruct.stdout).toBe(0);
    expect(await exportMailbox(store, { accountId: account.accountId })).toEqual(before);
    await followUpDone((await prisma().restoreRun.findFirstOrThrow({ orderBy: { id: "desc" } })).id);
    await expect(playRedo({ server: "mail1", mailbox: "orphan@example.com", fromCreate: true })).rejects.toThrow(/no longer holds the creation of orphan@example.com/);
  });

  it("rebuilds an account created after the last full from redo alone when the whole server is lost", async () => {
    const newest = await createAccount(store, { email: "newest@example.com" });
    await generateTraffic(store, { ops: 200, seed: 41, renames: false, concurrency: 1, accountIds: [newest.accountId] });
    await archiveRedo(store, { force: true, maxBytes: 1, maxAgeSeconds: 1 });
    const before = await exportMailbox(store, { accountId: newest.accountId });
    const { rows: others } = await store.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM mailstore.mailbox WHERE email <> 'orphan@example.com'");

    await fx.workers!.close();
    await closeMailstores();
    const server = await getServer("mail1");
    await dropDatabase(withDatabase(fx.env.databaseUrl, server.mailstoreDatabase));
    await rm(server.blobVolumePath, { recursive: true, force: true });
    fx.workers = await startWorkers({ servers: [{ name: "mail1", concurrency: 2 }] });

    const rebuilt = await restoreServer({ server: "mail1", requestedBy: "test" });
    if (rebuilt.restore.dryRun) throw new Error("expected a run");
    expect(rebuilt.restore.plan.accounts.find((a) => a.accountId === newest.accountId)?.snapshot).toBeNull();
    const run = await settledRun(rebuilt.restore.runId);
    // The orphan of the last test cannot be rebuilt here either, and is named. (The demo
    // directory's accounts that never had a mailbox are not accounts to restore.)
    expect(run.status).toBe("partial");
    expect(run.error).toMatch(new RegExp(`^${others[0]!.n} restored, 1 not restored: orphan@example.com \\(no full backup`));
    expect(run.error).not.toContain("newest@example.com");
    store = await openMailstore("mail1");
    expect(await exportMailbox(store, { accountId: newest.accountId })).toEqual(before);
    await backupsSettled();
  });
});
