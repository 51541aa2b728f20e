/**
 * Deleting one session with real backups: a full that later incrementals build on is refused, as
 * is the newest session, one a restore reads, and any while a backup runs (checked again under the
 * prune lock, which refuses a backup asked for meanwhile); an incremental a later
 * full makes unnecessary goes, then the old full, from the target, catalog and accounts index,
 * with the blobs and account files only it held pruned (those a remaining session shares stay)
 * and every remaining session still verifying; a failed
 * session always goes. Every deletion goes the console's way: checked, then run as a
 * backup.delete job on the server's worker.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { startWorkers } from "../../workers/start-workers.ts";
import { consolePool, prisma } from "../db/console-db.ts";
import { generateTraffic } from "../demo/generate-traffic.ts";
import { getServer } from "../directory/list-servers.ts";
import { deliverMessage } from "../mailstore/deliver-message.ts";
import { deleteItems } from "../mailstore/item-operations.ts";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { serverQueue } from "../jobs/queues.ts";
import { useMailServer } from "../testing/mail-server-fixture.ts";
import { runBackup } from "../testing/wait-for-runs.ts";
import { removeSessions } from "./apply-retention.ts";
import { pruneLockKey } from "./catalog.ts";
import { requestSessionDelete } from "./delete-session.ts";
import { leaseSessions } from "./session-leases.ts";
import { queueRestore, submitRestore } from "../restore/submit-restore.ts";
import type { RestorePlan } from "../restore/plan-restore.ts";
import { submitBackup } from "./submit-backup.ts";
import { readAccountsIndex } from "./session-files.ts";
import { accountFileObject, BackupTarget } from "./target.ts";
import { verifyServerBackups } from "./verify-session.ts";

const fx = useMailServer({ accounts: { prefix: "keep", count: 3 }, traffic: { ops: 60, seed: 5, concurrency: 1 }, workers: startWorkers });
let store: Mailstore;
let target: BackupTarget;

const exists = (p: string) => stat(p).then(() => true, () => false);
const listDumps = async () => {
  const names: string[] = [];
  for await (const info of target.backend.list("dumps/")) names.push(info.name);
  return names.sort();
};
/** A target with nothing cached (manifests are cached per instance). */
const fresh = () => new BackupTarget(target.root, "mail1");

beforeAll(async () => {
  store = fx.store;
  target = new BackupTarget((await getServer("mail1")).backupTarget, "mail1");
});

describe("deleting a session (checked in the console, done on the worker)", () => {
  it("refuses what later sessions need, deletes what they do not, and prunes blobs only it held", async () => {
    // A message only the first full holds: deleted before the second full.
    const only = await deliverMessage(store, { recipients: ["keep0@example.com"], bytes: Buffer.from("Subject: only in full 1\r\n\r\nunique body 8f3a\r\n") });
    const f1 = await runBackup("mail1", "full");
    await deleteItems(store, { email: "keep0@example.com" }, { itemIds: [only.delivered[0]!.itemId] });
    const i1 = await runBackup("mail1", "incremental");
    const f2 = await runBackup("mail1", "full");
    await generateTraffic(store, { ops: 20, seed: 6, renames: false, concurrency: 1 });
    const i2 = await runBackup("mail1", "incremental");

    await expect(requestSessionDelete({ server: "mail1", label: f1.label })).rejects.toMatchObject({ code: "session_needed", message: expect.stringMatching(/later sessions build on it/) });
    await expect(requestSessionDelete({ label: i2.label })).rejects.toMatchObject({ code: "session_needed", message: expect.stringMatching(/newest completed backup/) });
    const lease = await prisma().sessionLease.create({ data: { sessionId: f2.sessionId, holder: "restore-test", expiresAt: new Date(Date.now() + 60_000) } });
    await expect(requestSessionDelete({ server: "mail1", label: f2.label })).rejects.toMatchObject({ code: "session_in_use" });
    await prisma().sessionLease.delete({ where: { id: lease.id } });

    // Account files are shared by content: keep1 did not change between the fulls, keep0 did.
    const fileOf = async (label: string, email: string) => {
      const { rows } = await store.pool.query("SELECT account_id FROM mailstore.mailbox WHERE email = $1", [email]);
      return fresh().sessionFileObject(label, `accounts/${rows[0].account_id}/items.copy.gz`);
    };
    const [kept, changed] = [await fileOf(f1.label, "keep1@example.com"), await fileOf(f1.label, "keep0@example.com")];
    expect(await fileOf(f2.label, "keep1@example.com")).toBe(kept);
    expect(await fileOf(f2.label, "keep0@example.com")).not.toBe(changed);
    // What a backup killed before its commit leaves: an account file no manifest names.
    const orphan = accountFileObject(createHash("sha256").update("orphan").digest("hex"));
    await target.backend.save(orphan, Buffer.from("orphan"));
    expect((await verifyServerBackups("mail1", { all: true })).find((r) => r.label === "repository")!.problems).toContainEqual(expect.objectContaining({ kind: "garbage", path: orphan }));

    const blob = only.digest;
    const stored = async (digest: string) => (await target.repository({ reload: true })).has(digest);
    expect(await stored(blob)).toBe(true);
    expect(await requestSessionDelete({ server: "mail1", label: i1.label })).toMatchObject({ label: i1.label, status: "completed", removed: [i1.label] });
    const gone = await requestSessionDelete({ server: "mail1", label: f1.label });
    expect(gone.removed).toEqual([f1.label]);
    expect(gone.blobsPruned).toBeGreaterThanOrEqual(1);
    expect(await stored(blob)).toBe(false);
    expect(await exists(path.join(target.root, "sessions", f1.label))).toBe(false);
    // The shared file f2 still names stays and reads back; those only f1 named, and the orphan, are gone.
    expect(await exists(path.join(target.root, kept))).toBe(true);
    expect((await fresh().readSessionFile(f2.label, `accounts/${(await store.pool.query("SELECT account_id FROM mailstore.mailbox WHERE email = 'keep1@example.com'")).rows[0].account_id}/items.copy.gz`)).length).toBeGreaterThan(0);
    expect(await exists(path.join(target.root, changed))).toBe(false);
    expect(await exists(path.join(target.root, orphan))).toBe(false);
    expect(await prisma().backupSession.count({ where: { label: { in: [f1.label, i1.label] } } })).toBe(0);
    const index = JSON.stringify(await readAccountsIndex(target));
    expect(index).not.toContain(f1.label);
    expect(index).toContain(f2.label);
    expect(await exists(path.join(target.root, "accounts-index", `${f1.label}.json`))).toBe(false);
    const reports = await verifyServerBackups("mail1", { all: true });
    expect(reports.map((r) => r.label).sort()).toEqual([f2.label, i2.label, "repository", "shipped redo"].sort());
    expect(reports.every((r) => r.ok)).toBe(true);
    // Prune left no garbage: every pack is named by the index.
    expect(reports.find((r) => r.label === "repository")!.problems).toEqual([]);
    // The worker did the removal: the job is in the queue's history with its result.
    const jobs = await serverQueue("mail1").getJobs(["completed"]);
    expect(jobs.filter((j) => j.name === "backup.delete").map((j) => (j.returnvalue as { label: string }).label)).toEqual(expect.arrayContaining([i1.label, f1.label]));
  });

  it("always deletes a failed session, refuses while a backup runs, and 404s an unknown label", async () => {
    const server = await prisma().server.findUniqueOrThrow({ where: { name: "mail1" } });
    const failed = await prisma().backupSession.create({ data: { serverId: server.id, label: "full-20200101.000000.000", type: "full", status: "failed", requestedAccounts: [] } });
    await mkdir(path.join(target.root, "tmp", failed.label), { recursive: true });
    const running = await prisma().backupSession.create({ data: { serverId: server.id, label: "incr-20200101.000001.000", type: "incremental", status: "running", requestedAccounts: [] } });
    await expect(requestSessionDelete({ server: "mail1", label: failed.label })).rejects.toMatchObject({ code: "backup_in_progress" });
    // The prune itself checks again under its lock (a backup may start after the console's check).
    await expect(removeSessions(target, server.id, [failed])).rejects.toMatchObject({ code: "backup_in_progress" });
    expect(await exists(path.join(target.root, "tmp", failed.label))).toBe(true);
    await prisma().backupSession.update({ where: { id: running.id }, data: { status: "interrupted" } });

    // While a prune holds the lock, a backup is refused and nothing is queued.
    const pruning = await consolePool().connect();
    try {
      await pruning.query("SELECT pg_advisory_lock(hashtext($1))", [pruneLockKey(server.id)]);
      await expect(submitBackup({ server: "mail1", type: "incremental", requestedBy: "test" })).rejects.toMatchObject({ code: "prune_running", message: expect.stringContaining("retention is removing sessions of mail1") });
      expect(await prisma().backupSession.count({ where: { status: { in: ["queued", "running"] } } })).toBe(0);
    } finally {
      await pruning.query("SELECT pg_advisory_unlock_all()");
      pruning.release();
    }

    expect(await requestSessionDelete({ server: "mail1", label: failed.label })).toMatchObject({ status: "failed", removed: [failed.label] });
    expect(await exists(path.join(target.root, "tmp", failed.label))).toBe(false);
    await expect(requestSessionDelete({ server: "mail1", label: "full-19990101.000000.000" })).rejects.toMatchObject({ code: "session_not_found" });
    await expect(requestSessionDelete({ label: "full-19990101.000000.000" })).rejects.toMatchObject({ code: "session_not_found" });
    await expect(requestSessionDelete({ server: "nosuch", label: failed.label })).rejects.toMatchObject({ code: "server_not_found" });
  });

  it("keeps a restore's lease and a prune from crossing", async () => {
    const server = await prisma().server.findUniqueOrThrow({ where: { name: "mail1" } });
    const session = await prisma().backupSession.create({ data: { serverId: server.id, label: "full-20200102.000000.000", type: "full", status: "failed", requestedAccounts: [] } });
    await mkdir(path.join(target.root, "tmp", session.label), { recursive: true });

    // A lease taken after the console's check: the prune finds it under its lock and removes nothing.
    await consolePool().query("INSERT INTO session_lease (session_id, holder, expires_at) VALUES ($1, 'restore-test', now() + interval '1 hour')", [session.id]);
    await expect(removeSessions(target, server.id, [session])).rejects.toMatchObject({ code: "session_in_use", message: expect.stringContaining("restore-test") });
    expect(await exists(path.join(target.root, "tmp", session.label))).toBe(true);
    await consolePool().query("DELETE FROM session_lease WHERE session_id = $1", [session.id]);

    // While a prune holds the lock, a lease waits for it, and gives up with prune_running.
    const pruning = await consolePool().connect();
    try {
      await pruning.query("SELECT pg_advisory_lock(hashtext($1))", [pruneLockKey(server.id)]);
      await expect(leaseSessions("mail1", [session.label], "restore-a", "1 hour", { pruneWaitMs: 300 })).rejects.toMatchObject({ code: "prune_running" });
      expect(await prisma().sessionLease.count({ where: { sessionId: session.id } })).toBe(0);
      const waiting = leaseSessions("mail1", [session.label], "restore-b", "1 hour");
      await expect
        .poll(async () => (await consolePool().query("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")).rowCount, { timeout: 10_000 })
        .toBe(1);
      await pruning.query("SELECT pg_advisory_unlock_all()");
      expect((await waiting).leased).toEqual([session.label]);
    } finally {
      await pruning.query("SELECT pg_advisory_unlock_all()");
      pruning.release();
    }
    await consolePool().query("DELETE FROM session_lease WHERE session_id = $1", [session.id]);

    // All or nothing: with one of its sessions gone, nothing is leased.
    expect(await leaseSessions("mail1", [session.label, "full-19990101.000000.000"], "restore-c", "1 hour")).toEqual({ leased: [], missing: ["full-19990101.000000.000"], expiresAt: null });
    expect(await prisma().sessionLease.count()).toBe(0);

    // A restore planned on a session that is gone by the time it is queued is refused, and leaves
    // neither a run nor a lease on the sessions that are still there.
    const { plan } = (await submitRestore({ server: "mail1", accounts: ["keep1@example.com"], copy: true, prefix: "r_", dryRun: true })) as { plan: RestorePlan };
    const account = plan.accounts[0]!;
    expect(account.snapshot).not.toBeNull();
    const runs = await prisma().restoreRun.count();
    const gone = { ...account, requested: "keep2@example.com", snapshot: { ...account.snapshot!, session: "full-19990101.000000.000" } };
    await expect(queueRestore({ ...plan, accounts: [account, gone] }, { server: "mail1", accounts: ["keep1@example.com", "keep2@example.com"], copy: true, prefix: "r_" }, "test")).rejects.toMatchObject({
      code: "session_removed",
      message: expect.stringContaining("full-19990101.000000.000"),
    });
    expect(await prisma().restoreRun.count()).toBe(runs);
    expect(await prisma().sessionLease.count()).toBe(0);
    await requestSessionDelete({ server: "mail1", label: session.label });
  });

  it("prunes nothing when a remaining session's manifest cannot be read", async () => {
    const server = await prisma().server.findUniqueOrThrow({ where: { name: "mail1" } });
    const [kept] = await target.publishedLabels();
    // Its commit object no longer matches its manifest (the process's copy of the manifest is kept by commit).
    const commit = path.join(target.root, "sessions", kept!, "manifest.sha256");
    const good = await readFile(commit);
    const account = (await fresh().sessionAccountIds(kept!))[0]!;
    const digests = (await fresh().readSessionFile(kept!, `accounts/${account}/blobs.txt`)).toString("utf8").split("\n").filter(Boolean);
    const dumps = await listDumps();
    const failed = await prisma().backupSession.create({ data: { serverId: server.id, label: "full-20200102.000000.000", type: "full", status: "failed", requestedAccounts: [] } });
    await writeFile(commit, `${good[0] === 0x30 ? "1" : "0"}${good.subarray(1).toString("utf8")}`);
    try {
      await expect(requestSessionDelete({ server: "mail1", label: failed.label })).rejects.toThrow(`prune stopped, nothing removed: what ${kept} needs cannot be read`);
    } finally {
      await writeFile(commit, good);
    }
    const repo = await target.repository({ reload: true });
    for (const digest of digests) expect(repo.has(digest), digest).toBe(true);
    expect(await listDumps()).toEqual(dumps);
    expect((await verifyServerBackups("mail1", { all: true })).filter((r) => !r.ok)).toEqual([]);
  });
});
