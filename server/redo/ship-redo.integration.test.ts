/**
 * Redo shipping on real services: mail1 ships every 2 s to its folder primary and to an S3
 * bucket (s3rver on 127.0.0.1) while its worker's archive scheduler runs. Traffic and deliveries
 * go on; the bucket then holds every sequence number exactly once, in segments that verify. With
 * the bucket down for a minute, deliveries go on, the lag grows and `rpo` says so, and the backlog
 * ships once it is back; a connection cut in the middle of a ship leaves no partial segment; an incremental
 * refers to what was shipped instead of uploading it again, and a restore reads it there.
 */
import { spawn } from "node:child_process";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorkers } from "../../workers/start-workers.ts";
import { BackupTarget, closeRepositories, shippedSegmentObject } from "../backup/target.ts";
import { verifySession } from "../backup/verify-session.ts";
import { rename, rm, writeFile } from "node:fs/promises";
import { consolePool, prisma } from "../db/console-db.ts";
import { updateSettings } from "../directory/update-settings.ts";
import { generateTraffic } from "../demo/generate-traffic.ts";
import { addCopyTarget, removeCopyTarget } from "../directory/copy-targets.ts";
import { getServer } from "../directory/list-servers.ts";
import { deliverMessage } from "../mailstore/deliver-message.ts";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { exportMailbox } from "../restore/export-mailbox.ts";
import { useMailServer } from "../testing/mail-server-fixture.ts";
import { startS3Server, type S3TestServer } from "../testing/s3-server.ts";
import { runBackup, runRestore, waitFor } from "../testing/wait-for-runs.ts";
import { archiveCheckIntervalMs } from "./archive-server-redo.ts";
import { lastArchivedSeq } from "./archive-redo.ts";
import { redoRpo, type TargetRpo } from "./redo-rpo.ts";
import { checkRpoAlert } from "../reports/rpo-alert.ts";
import { readSegment } from "./segment-format.ts";
import { forgetShipState, listShipped } from "./ship-redo.ts";
import { TEMP_NAME } from "../repository/local-backend.ts";

let s3: S3TestServer;
let url: string;
let store: Mailstore;

beforeAll(async () => {
  s3 = await startS3Server({ buckets: ["mailvault-redo"] });
  url = s3.url("mailvault-redo", "mail1");
});
afterAll(async () => {
  await closeRepositories();
  await s3?.stop();
});

const settings = { redoShipSeconds: 2, redoKeepSeconds: 0 };
const fx = useMailServer({
  settings,
  accounts: { prefix: "ship", count: 3 },
  traffic: { ops: 150, seed: 71 },
  randomLmtpPorts: true,
  // The worker's own archive scheduler seals and ships, as in production.
  workers: (options) => startWorkers({ servers: options.servers.map((s) => ({ ...s, archiveEveryMs: archiveCheckIntervalMs({ redoArchive: { maxAgeSeconds: 60 }, ...settings }) })) }),
});

beforeAll(async () => {
  store = fx.store;
  await removeCopyTarget("mail1", "offsite");
  await addCopyTarget("mail1", { name: "offsite", url });
});

let n = 0;
async function deliver(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    n++;
    const to = fx.accounts[n % fx.accounts.length]!.email;
    const bytes = Buffer.from(`From: sender${n}@example.org\r\nTo: ${to}\r\nSubject: shipped ${n}\r\nMessage-ID: <ship-${n}@example.org>\r\n\r\nbody ${n}\r\n`);
    await deliverMessage(store, { recipients: [to], bytes });
  }
}

const offsite = async (): Promise<TargetRpo> => (await redoRpo("mail1")).targets.find((t) => t.name === "offsite")!;

/** Every sequence number from 1 to `through` is in exactly one shipped segment of the target, each of which verifies. */
async function shippedCoverage(target: BackupTarget): Promise<{ segments: number; covered: number[] }> {
  const covered: number[] = [];
  const names = await listShipped(target);
  for (const name of names) {
    for await (const entry of readSegment(name, target.segmentReader(shippedSegmentObject(name)))) {
      if (!("header" in entry)) continue;
      for (let seq = entry.header.firstSeq; seq <= entry.header.lastSeq; seq++) covered.push(seq);
    }
  }
  return { segments: names.length, covered };
}

function expectExactlyOnce(covered: number[], through: number): void {
  expect(covered.length).toBe(through);
  expect(new Set(covered).size).toBe(through);
  expect(Math.min(...covered)).toBe(1);
  expect(Math.max(...covered)).toBe(through);
}

describe("redo shipping", () => {
  it("ships what is sealed to every target within the interval, each number exactly once", async () => {
    let worst = 0;
    const sample = setInterval(() => void redoRpo("mail1").then((r) => (worst = Math.max(worst, ...r.targets.map((t) => t.rpoSeconds))), () => {}), 250);
    try {
      await deliver(40);
      await generateTraffic(store, { ops: 60, seed: 72, renames: false, concurrency: 2 });
      // Within the ship interval plus a few seconds, both targets hold everything.
      const rpo = await waitFor(async () => {
        const r = await redoRpo("mail1");
        return r.targets.every((t) => t.unshippedRecords === 0) && r;
      }, "every target to hold every record", 60_000);
      expect(rpo.targets.map((t) => t.name)).toEqual(["primary", "offsite"]);
      const through = await lastArchivedSeq(store.pool);
      for (const t of rpo.targets) expect(t).toMatchObject({ lastShippedSeq: through, rpoSeconds: 0 });
      // Both on this machine here (a folder, and an S3 endpoint at 127.0.0.1): flagged honestly.
      expect(rpo.targets.every((t) => t.sameMachine)).toBe(true);
      expect(rpo.machineLossRpoSeconds).toBeNull();
    } finally {
      clearInterval(sample);
    }
    console.log(`worst RPO seen under traffic, ship interval 2 s: ${worst} s`);
    expect(worst).toBeLessThanOrEqual(2 + 5 + 5);
    const server = await getServer("mail1");
    const through = await lastArchivedSeq(store.pool);
    for (const targetUrl of [server.backupTarget, url]) expectExactlyOnce((await shippedCoverage(new BackupTarget(targetUrl, "mail1"))).covered, through);
  });

  it("goes on delivering while the bucket is down for a minute, shows the lag, then ships the backlog once, without holes", async () => {
    await s3.pause();
    const outage = Date.now();
    let delivered = 0;
    let worstPrimary = 0;
    // Mail keeps arriving all minute: delivery never waits for shipping.
    while (Date.now() - outage < 60_000) {
      await deliver(1);
      delivered++;
      if (delivered % 10 === 0) worstPrimary = Math.max(worstPrimary, (await redoRpo("mail1")).targets[0]!.rpoSeconds);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(delivered).toBeGreaterThan(100);
    const lagging = await offsite();
    expect(lagging.failingSince).not.toBeNull();
    expect(lagging.lastError).toMatch(/ECONNREFUSED|connect|socket|ECONNRESET/i);
    expect(lagging.unshippedRecords).toBeGreaterThanOrEqual(delivered - 10);
    expect(lagging.rpoSeconds).toBeGreaterThanOrEqual(50);
    // The primary kept shipping meanwhile, within the interval plus a few seconds.
    expect(worstPrimary).toBeLessThanOrEqual(2 + 5 + 5);

    await s3.restart();
    // The backoff is capped at 30 s: the backlog goes within that, plus a ship.
    const caughtUp = await waitFor(async () => {
      const t = await offsite();
      return t.unshippedRecords === 0 && !t.failingSince && t;
    }, "the offsite backlog to ship", 90_000);
    expect(caughtUp.lastError).toBeNull();
    console.log(`bucket down 60 s under ${delivered} deliveries: lag reached ${lagging.rpoSeconds} s; the backlog shipped ${((Date.now() - outage) / 1000 - 60).toFixed(1)} s after it came back`);
    expectExactlyOnce((await shippedCoverage(new BackupTarget(url, "mail1"))).covered, await lastArchivedSeq(store.pool));
  });

  it("leaves no partial segment when the connection is cut in the middle of a ship, and the next ship completes", async () => {
    const cut = s3.stopOnPut((key) => key.startsWith("mail1/redo/"));
    await deliver(20);
    await cut;
    const before = await listShipped(new BackupTarget(url, "mail1")).catch(() => null);
    expect(before).toBeNull(); // the bucket is unreachable: nothing to see, and nothing half-stored after
    await s3.restart();
    await waitFor(async () => (await offsite()).unshippedRecords === 0, "the cut segment to ship again", 90_000);
    const target = new BackupTarget(url, "mail1");
    expectExactlyOnce((await shippedCoverage(target)).covered, await lastArchivedSeq(store.pool));
    // No object under redo/ but whole segments.
    for await (const info of target.backend.list("redo/")) expect(info.name).toMatch(/^redo\/redo-\d{8}\.\d{6}\.\d{3}-seq\d+-\d+\.log$/);
  });

  it("leaves no half-published segment when the shipping worker is killed in the middle of a save, and the next ship completes", async () => {
    // A real worker process ships a large segment (redo carries message bodies) to the folder
    // primary; it is killed with SIGKILL the moment its temporary file appears there.
    await fx.workers!.close();
    fx.workers = undefined;
    await s3.pause(); // the bucket waits: only the folder's save is under test here
    const large = Buffer.alloc(2 << 20, "x");
    for (let i = 0; i < 30; i++) {
      const to = fx.accounts[i % fx.accounts.length]!.email;
      await deliverMessage(store, { recipients: [to], bytes: Buffer.concat([Buffer.from(`From: big@example.org\r\nTo: ${to}\r\nSubject: large ${i}\r\n\r\n${i}`), large]) });
    }
    const folder = path.join((await getServer("mail1")).backupTarget, "redo");
    const before = await listShipped(new BackupTarget((await getServer("mail1")).backupTarget, "mail1"));
    const worker = spawn(process.execPath, ["--import", "tsx", "workers/main.ts", "--server", "mail1", "--no-lmtp"], { env: { ...process.env, LOG_LEVEL: "warn" }, stdio: "ignore" });
    let temp: string | undefined;
    try {
      temp = await waitFor(async () => (await readdir(folder).catch(() => [] as string[])).find((name) => TEMP_NAME.test(name)), "the ship's temporary file", 120_000);
      worker.kill("SIGKILL");
    } finally {
      if (worker.exitCode === null) worker.kill("SIGKILL");
    }
    await new Promise((r) => (worker.exitCode === null ? worker.once("exit", r) : r(null)));
    const primary = new BackupTarget((await getServer("mail1")).backupTarget, "mail1");
    // The segment under way is not there as an object, only as the dead writer's temporary file.
    expect(await listShipped(primary)).toEqual(before);
    expect(await readdir(folder)).toContain(temp);

    await s3.restart();
    forgetShipState();
    fx.workers = await startWorkers({ servers: [{ name: "mail1", concurrency: 2, archiveEveryMs: archiveCheckIntervalMs({ redoArchive: { maxAgeSeconds: 60 }, ...settings }) }] });
    await waitFor(async () => (await redoRpo("mail1")).targets.every((t) => t.unshippedRecords === 0), "the killed ship to complete", 120_000);
    const through = await lastArchivedSeq(store.pool);
    for (const target of [primary, new BackupTarget(url, "mail1")]) expectExactlyOnce((await shippedCoverage(target)).covered, through);
  });

  it("queues one report mail when the RPO goes above its limit, and one when it is back under", async () => {
    await updateSettings("mail1", () => ({ rpoAlertSeconds: 10 }));
    // Neither target can take redo: the bucket is down, the primary folder is a file.
    const primary = (await getServer("mail1")).backupTarget;
    await rename(primary, `${primary}.away`);
    await writeFile(primary, "not a folder");
    await s3.pause();
    try {
      await deliver(5);
      const high = await waitFor(async () => {
        const { rows } = await consolePool().query<{ status: string; detail: string }>("SELECT status, detail FROM report_outbox WHERE server = 'mail1' AND kind = 'rpo' ORDER BY id");
        return rows.length > 0 && rows;
      }, "an RPO alert", 60_000);
      expect(high).toEqual([expect.objectContaining({ status: "high", detail: expect.stringMatching(/^the newest \d+ s of mail \(5 records\) are on no target yet/) })]);
      expect((await redoRpo("mail1")).targets.every((t) => t.rpoSeconds > 10 && t.lastError)).toBe(true);
      // Several workers seeing the same crossing at once still queue one mail (this once came out as two).
      await consolePool().query("DELETE FROM report_outbox WHERE server = 'mail1' AND kind = 'rpo'");
      const server = await getServer("mail1");
      const seen = await Promise.all(Array.from({ length: 30 }, () => checkRpoAlert(server)));
      const { rows: again } = await consolePool().query("SELECT status FROM report_outbox WHERE server = 'mail1' AND kind = 'rpo'");
      expect(again).toEqual([{ status: "high" }]);
      expect(seen.filter((state) => state === "high").length).toBeLessThanOrEqual(1);
    } finally {
      await rm(primary, { force: true });
      await rename(`${primary}.away`, primary);
      await s3.restart();
    }
    const rows = await waitFor(async () => {
      const { rows } = await consolePool().query<{ status: string }>("SELECT status FROM report_outbox WHERE server = 'mail1' AND kind = 'rpo' ORDER BY id");
      return rows.length === 2 && rows;
    }, "the all-clear", 90_000);
    expect(rows.map((r) => r.status)).toEqual(["high", "ok"]);
    await updateSettings("mail1", () => ({ rpoAlertSeconds: 300 }));
  });

  it("an incremental names the shipped segments instead of uploading them again, and a restore reads them there", async () => {
    const full = await runBackup("mail1", "full");
    await deliver(15);
    await generateTraffic(store, { ops: 40, seed: 73, renames: false, concurrency: 2 });
    const incremental = await runBackup("mail1", "incremental");
    const server = await getServer("mail1");
    const primary = new BackupTarget(server.backupTarget, "mail1");
    const description = await primary.readSessionJson<{ redo: { segments: string[]; shipped: string[] } }>(incremental.label);
    expect(description!.redo.segments.length).toBeGreaterThan(0);
    expect(description!.redo.shipped).toEqual(description!.redo.segments);
    expect(await primary.sessionFiles(incremental.label, "redologs/")).toEqual([]);
    expect(await verifySession(primary, incremental.label)).toMatchObject({ ok: true, problems: [] });
    expect(await verifySession(primary, full.label)).toMatchObject({ ok: true });

    // The local archive is trimmed (redoKeepSeconds 0): a restore reads the redo from the target.
    const alice = fx.accounts[0]!;
    const expected = await exportMailbox(store, alice);
    const restored = await runRestore({ server: "mail1", accounts: [alice.email], copy: true, prefix: "shipped_" });
    expect(restored.plan.accounts[0]!.redo.sessions.map((s) => s.label)).toContain(incremental.label);
    const copy = await prisma().account.findFirstOrThrow({ where: { email: `shipped_${alice.email}` } });
    expect(await exportMailbox(store, { accountId: copy.id })).toEqual(expected);
  });
});
