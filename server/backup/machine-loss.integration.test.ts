/**
 * Losing the whole machine, end to end on real services. mail1 backs up to an encrypted S3
 * bucket (s3rver on 127.0.0.1) and ships its redo there every 2 s. After a full, accounts are
 * created and renamed, traffic runs and mail arrives over LMTP, up to the moment of the loss.
 * Then the console database, the mailstore database, the data folder and the queues are dropped,
 * and nothing is kept from them. A new installation (a new console database and data folder)
 * attaches the bucket: a wrong passphrase is refused in one line, and so is a target still
 * held by a live console, until --takeover. The server is restored offline, and every operation
 * committed more than (ship interval + 5 s) before the loss is there, identical: items, folders,
 * flags, tags, contacts, dates and change numbers, against a snapshot taken before the loss.
 */
import nodemailer from "nodemailer";
import { afterAll, describe, expect, it } from "vitest";
import { startWorkers, type WorkerSet } from "../../workers/start-workers.ts";
import { databaseName } from "../config.ts";
import { consolePool, prisma } from "../db/console-db.ts";
import { generateTraffic } from "../demo/generate-traffic.ts";
import { seedDemo } from "../demo/seed-demo.ts";
import { getServer } from "../directory/list-servers.ts";
import { createAccount, renameAccount } from "../mailstore/account-operations.ts";
import { openMailstore, type Mailstore } from "../mailstore/mailstore.ts";
import { setUpServerStore } from "../mailstore/setup-mailstore.ts";
import { archiveCheckIntervalMs } from "../redo/archive-server-redo.ts";
import { redoRpo } from "../redo/redo-rpo.ts";
import { forgetShipState } from "../redo/ship-redo.ts";
import { initEncryption } from "../repository/repository-keys.ts";
import { exportMailbox, type CanonicalExport } from "../restore/export-mailbox.ts";
import { restoreServer } from "../restore/restore-server.ts";
import { startS3Server, type S3TestServer } from "../testing/s3-server.ts";
import { storedRows } from "../restore/stored-rows.ts";
import { createTestEnv, type TestEnv } from "../testing/test-env.ts";
import { runBackup, waitFor } from "../testing/wait-for-runs.ts";
import { attachTarget } from "./attach-target.ts";
import { backendFor, closeRepositories } from "./target.ts";

const PASSPHRASE = "a lost machine, a kept bucket";
const SHIP_SECONDS = 2;
const previous = process.env.MAILVAULT_TARGET_PASSPHRASE;
let s3: S3TestServer | undefined;
let env: TestEnv | undefined;
let workers: WorkerSet | undefined;

afterAll(async () => {
  await workers?.close();
  await env?.cleanup();
  await closeRepositories();
  await s3?.stop();
  if (previous === undefined) delete process.env.MAILVAULT_TARGET_PASSPHRASE;
  else process.env.MAILVAULT_TARGET_PASSPHRASE = previous;
});

const settings = { redoShipSeconds: SHIP_SECONDS, redoArchive: { maxBytes: 100 * 1024 * 1024, maxAgeSeconds: 60 } };
const mail1Workers = (lmtpPort?: number) => startWorkers({ servers: [{ name: "mail1", concurrency: 2, archiveEveryMs: archiveCheckIntervalMs(settings), ...(lmtpPort === undefined ? {} : { lmtpPort }) }] });

interface Captured {
  export: CanonicalExport;
  rows: Awaited<ReturnType<typeof storedRows>>;
}

async function capture(store: Mailstore, accountId: string): Promise<Captured> {
  const { rows } = await store.pool.query<{ id: number; group_id: number }>("SELECT id, group_id FROM mailstore.mailbox WHERE account_id = $1", [accountId]);
  return { export: await exportMailbox(store, { accountId }), rows: await storedRows(store.pool, rows[0]!) };
}

async function directory() {
  const { rows } = await consolePool().query<{ id: string; email: string; deleted: boolean; names: string[] }>(
    `SELECT a.id, a.email, a.deleted_at IS NOT NULL AS deleted, array_agg(n.email ORDER BY n.valid_from) AS names
       FROM account a JOIN account_name n ON n.account_id = a.id
      WHERE a.server_id = (SELECT id FROM server WHERE name = 'mail1') GROUP BY a.id ORDER BY a.email`,
  );
  return rows;
}

describe("losing the whole machine", () => {
  it("rebuilds a new installation from the bucket alone, losing at most the ship interval plus a few seconds", async () => {
    s3 = await startS3Server({ buckets: ["mailvault-dr"] });
    const url = s3.url("mailvault-dr", "mail1");
    process.env.MAILVAULT_TARGET_PASSPHRASE = PASSPHRASE;
    await initEncryption(backendFor(url).raw, PASSPHRASE);

    // ---- the machine as it ran ----
    env = await createTestEnv();
    await seedDemo({ accounts: 0, dataDir: env.dataDir, consoleDatabase: databaseName(env.databaseUrl) });
    const row = await prisma().server.findUniqueOrThrow({ where: { name: "mail1" } });
    await prisma().server.update({ where: { id: row.id }, data: { backupTarget: url, settings: { ...(row.settings as object), ...settings, copyTargets: [], encryptedTargets: [url] } } });
    await setUpServerStore("mail1");
    let store = await openMailstore("mail1");
    const accounts = [];
    for (let i = 0; i < 4; i++) accounts.push(await createAccount(store, { email: `dr${i}@example.com` }));
    await generateTraffic(store, { ops: 200, seed: 81, renames: false, concurrency: 2 });
    workers = await mail1Workers(0);
    await runBackup("mail1", "full");

    // After the full: a new account, a rename, more traffic and mail over LMTP.
    accounts.push(await createAccount(store, { email: "dr.late@example.com" }));
    await renameAccount(store, { accountId: accounts[1]!.accountId, newEmail: "dr1.renamed@example.com" });
    await generateTraffic(store, { ops: 150, seed: 82, renames: false, concurrency: 2 });
    const lmtp = nodemailer.createTransport({ host: "127.0.0.1", port: workers.lmtpPorts.mail1!, lmtp: true });
    for (let i = 0; i < 10; i++) {
      await lmtp.sendMail({ from: "pat@example.net", to: ["dr.late@example.com", "dr0@example.com"], subject: `before the loss ${i}`, text: `message ${i}`, messageId: `<dr-${i}@example.net>` });
    }
    // Everything so far is shipped within the interval: captured now, compared after the rebuild.
    await waitFor(async () => (await redoRpo("mail1")).targets.every((t) => t.unshippedRecords === 0), "the redo to be shipped", 60_000);
    const expected = new Map<string, Captured>();
    for (const a of accounts) expected.set(a.accountId, await capture(store, a.accountId));
    const directoryBefore = await directory();

    // Up to the loss, mail keeps arriving for one more account, each delivery timed.
    const burst = await createAccount(store, { email: "dr.burst@example.com" });
    const sent: { id: string; at: number }[] = [];
    const until = Date.now() + (SHIP_SECONDS + 7) * 1000;
    for (let i = 0; Date.now() < until; i++) {
      const id = `<burst-${i}@example.net>`;
      await lmtp.sendMail({ from: "pat@example.net", to: "dr.burst@example.com", subject: `burst ${i}`, text: `burst ${i}`, messageId: id });
      sent.push({ id, at: Date.now() });
      await new Promise((r) => setTimeout(r, 100));
    }

    // ---- the loss: console database, mailstore database, data folder, queues ----
    const lostAt = Date.now();
    lmtp.close();
    await workers.close();
    workers = undefined;
    await env.cleanup();
    env = undefined;
    await closeRepositories();
    forgetShipState();

    // ---- a new installation ----
    env = await createTestEnv();
    process.env.MAILVAULT_TARGET_PASSPHRASE = "not the passphrase at all";
    await expect(attachTarget({ url })).rejects.toThrow(/^wrong passphrase: no key of s3:\/\/mailvault-dr\/mail1 opens/);
    await closeRepositories();
    process.env.MAILVAULT_TARGET_PASSPHRASE = PASSPHRASE;
    // The old installation renewed its lease seconds ago: as far as anyone can tell, it is alive.
    await expect(attachTarget({ url })).rejects.toThrow(/is held by another Mailvault console .* with --takeover$/);
    expect(await consolePool().query("SELECT 1 FROM server").then((r) => r.rowCount)).toBe(0);

    const started = Date.now();
    const attached = await attachTarget({ url, takeover: true });
    console.log(`attach took ${((Date.now() - started) / 1000).toFixed(1)} s: ${JSON.stringify(attached)}`);
    expect(attached).toMatchObject({ server: "mail1", sessions: 1 });
    expect(attached.redo.segments).toBeGreaterThan(0);
    // The directory as it was: every account, every former name, the late one and the rename included.
    const directoryAfter = await directory();
    for (const entry of directoryBefore) expect(directoryAfter).toContainEqual(entry);
    expect(directoryAfter.map((a) => a.email)).toContain("dr.burst@example.com");

    workers = await mail1Workers();
    const rebuilt = await restoreServer({ server: "mail1", requestedBy: "test" });
    if (rebuilt.restore.dryRun) throw new Error("not a run");
    const runId = rebuilt.restore.runId;
    const run = await waitFor(async () => {
      const r = await prisma().restoreRun.findUniqueOrThrow({ where: { id: runId } });
      return !["queued", "running", "failing"].includes(r.status) && r;
    }, "the offline restore", 180_000);
    expect(run.status, run.error ?? "").toBe("completed");

    store = await openMailstore("mail1");
    for (const a of accounts) expect(await capture(store, a.accountId), a.email).toEqual(expected.get(a.accountId));

    // The burst: every delivery older than the ship interval plus 5 s at the loss is there.
    const burstExport = await exportMailbox(store, { accountId: burst.accountId });
    const subjects = new Set(JSON.stringify(burstExport).match(/burst \d+/g) ?? []);
    const kept = sent.filter((_, i) => subjects.has(`burst ${i}`));
    const mustHave = sent.filter((s) => lostAt - s.at > (SHIP_SECONDS + 5) * 1000);
    for (const s of mustHave) expect(subjects.has(`burst ${sent.indexOf(s)}`), `${s.id}, sent ${lostAt - s.at} ms before the loss`).toBe(true);
    const newest = kept.at(-1);
    const rpo = newest ? (lostAt - newest.at) / 1000 : Infinity;
    console.log(`measured RPO: ${rpo.toFixed(1)} s (ship interval ${SHIP_SECONDS} s); ${kept.length} of ${sent.length} burst deliveries survived; point reached redo ${rebuilt.pointReached.seq} at ${rebuilt.pointReached.at}`);
    expect(rpo).toBeLessThanOrEqual(SHIP_SECONDS + 5);
    const server = await getServer("mail1");
    expect(server.backupTarget).toBe(url);
  });
});
