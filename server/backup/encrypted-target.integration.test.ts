/**
 * An encrypted S3 target (s3rver on 127.0.0.1): a full and an incremental are stored with no mail
 * in the clear, a restore from them is identical to the source, a wrong passphrase fails the
 * restore with one clear line, a flipped byte fails authentication and verify names the pack, and
 * passphrases are added and removed as in restic.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorkers, type WorkerSet } from "../../workers/start-workers.ts";
import { prisma } from "../db/console-db.ts";
import { deliverMessage } from "../mailstore/deliver-message.ts";
import { generateTraffic } from "../demo/generate-traffic.ts";
import { createAccount } from "../mailstore/account-operations.ts";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { HEADER_BYTES } from "../repository/encrypted-backend.ts";
import { addKey, initEncryption, listKeys, removeKey, unlock } from "../repository/repository-keys.ts";
import { exportMailbox } from "../restore/export-mailbox.ts";
import { submitRestore } from "../restore/submit-restore.ts";
import { recordEncryptedTarget } from "../directory/update-settings.ts";
import { submitBackup } from "./submit-backup.ts";
import { useMailServer } from "../testing/mail-server-fixture.ts";
import { startS3Server, type S3TestServer } from "../testing/s3-server.ts";
import { restoresSettled, runBackup, runRestore, waitFor } from "../testing/wait-for-runs.ts";
import { BackupTarget, backendFor, closeRepositories } from "./target.ts";
import { verifyRepository, verifySession } from "./verify-session.ts";

const PASSPHRASE = "correct horse battery staple";
const SECRET_SUBJECT = "Merger with Initech closes Friday";

let s3: S3TestServer;
let store: Mailstore;
let url: string;
let alice: { accountId: string; email: string };
const previous = process.env.MAILVAULT_TARGET_PASSPHRASE;

// The bucket is up before mail1 is set up with it, and goes last, after the workers have stopped.
beforeAll(async () => {
  s3 = await startS3Server({ buckets: ["mailvault-enc"] });
  url = s3.url("mailvault-enc", "mail1");
});
afterAll(async () => {
  await closeRepositories();
  await s3?.stop();
  if (previous === undefined) delete process.env.MAILVAULT_TARGET_PASSPHRASE;
  else process.env.MAILVAULT_TARGET_PASSPHRASE = previous;
});

// Accounts, mail and workers are this file's own (below): the workers start after the traffic.
const fx = useMailServer<WorkerSet>({ backupTarget: () => url });

beforeAll(async () => {
  process.env.MAILVAULT_TARGET_PASSPHRASE = PASSPHRASE;
  await initEncryption(backendFor(url).raw, PASSPHRASE);
  store = fx.store;
  alice = await createAccount(store, { email: "alice@example.com" });
  await createAccount(store, { email: "bob@example.com" });
  await deliverMessage(store, { recipients: ["alice@example.com"], bytes: Buffer.from(`From: ceo@example.com\r\nSubject: ${SECRET_SUBJECT}\r\n\r\n${"Confidential. ".repeat(500)}\r\n`) });
  await generateTraffic(store, { ops: 150, seed: 21, renames: false, concurrency: 2 });
  fx.workers = await startWorkers({ servers: [{ name: "mail1", concurrency: 2 }] });
}, 120_000);

describe("an encrypted S3 target", () => {
  let full: string;

  it("stores a full and an incremental with no mail, subject or JSON in the clear", async () => {
    full = (await runBackup("mail1", "full")).label;
    await generateTraffic(store, { ops: 60, seed: 22, renames: false, concurrency: 2 });
    const incremental = (await runBackup("mail1", "incremental")).label;
    const target = new BackupTarget(url, "mail1");
    expect(await target.backend.encrypted()).toBe(true);
    for (const label of [full, incremental]) expect(await verifySession(target, label)).toMatchObject({ ok: true });
    const raw = target.backend.raw;
    let objects = 0;
    for await (const o of raw.list("")) {
      if (o.name.startsWith("keys/")) continue;
      const bytes = await raw.read(o.name);
      expect(bytes.subarray(0, 6).toString("latin1"), o.name).toBe("MVENC1");
      expect(bytes.includes(Buffer.from("Initech")), o.name).toBe(false);
      expect(bytes.includes(Buffer.from("alice@example.com")), o.name).toBe(false);
      objects++;
    }
    expect(objects).toBeGreaterThan(10);
  });

  it("restores an account from it, identical to the source, with its blobs from the bucket", async () => {
    const before = await exportMailbox(store, alice);
    for (const m of before.messages) await rm(store.blobs.path(m.split("|")[1]!), { force: true });
    await runRestore({ server: "mail1", accounts: [alice.email], copy: true, prefix: "enc_" });
    const copy = await prisma().account.findFirstOrThrow({ where: { email: `enc_${alice.email}` } });
    expect(await exportMailbox(store, { accountId: copy.id })).toEqual(before);
  });

  it("fails a restore with one clear line when the passphrase is wrong", async () => {
    // The restore before queued a full backup when it ended: it must not run under a wrong passphrase.
    await restoresSettled();
    await closeRepositories();
    process.env.MAILVAULT_TARGET_PASSPHRASE = "not the passphrase at all";
    try {
      const submitted = await submitRestore({ server: "mail1", accounts: [alice.email], copy: true, prefix: "wrong_", requestedBy: "test" });
      if (submitted.dryRun) throw new Error("expected a run");
      const run = await waitFor(async () => {
        const r = await prisma().restoreRun.findUniqueOrThrow({ where: { id: submitted.runId } });
        return !["queued", "running", "failing"].includes(r.status) && r;
      }, "the restore to end");
      expect(run.status).toBe("failed");
      expect(JSON.stringify([run.error, run.result])).toMatch(/wrong passphrase: no key of s3:\/\/mailvault-enc\/mail1 opens/);
      expect(await prisma().account.count({ where: { email: `wrong_${alice.email}`, deletedAt: null } })).toBe(0);
    } finally {
      process.env.MAILVAULT_TARGET_PASSPHRASE = PASSPHRASE;
      await closeRepositories();
    }
  });

  it("adds and removes passphrases, and never the last one", async () => {
    const raw = backendFor(url).raw;
    const [first] = await listKeys(raw);
    const second = await addKey(raw, PASSPHRASE, "a second passphrase, for the deputy");
    expect((await unlock(raw, "a second passphrase, for the deputy")).keyId).toBe(second);
    await expect(addKey(raw, "wrong wrong wrong", "another passphrase here")).rejects.toThrow(/wrong passphrase/);
    await removeKey(raw, "a second passphrase, for the deputy", first!.id);
    await expect(unlock(raw, PASSPHRASE)).rejects.toThrow(/wrong passphrase/);
    await expect(removeKey(raw, "a second passphrase, for the deputy", second)).rejects.toThrow(/last key/);
    // Put the first passphrase back for what follows.
    await addKey(raw, "a second passphrase, for the deputy", PASSPHRASE);
  });

  it("refuses a target the directory records as encrypted once its keys are gone, rather than back up in the clear", async () => {
    // No backup may be queued or running (a restore's follow-up) when this one is submitted.
    await restoresSettled();
    await recordEncryptedTarget("mail1", url);
    const raw = backendFor(url).raw;
    const keys: { name: string; bytes: Buffer }[] = [];
    for await (const o of raw.list("keys/")) keys.push({ name: o.name, bytes: await raw.read(o.name) });
    for (const k of keys) await raw.remove(k.name);
    await closeRepositories();
    try {
      const submitted = await submitBackup({ server: "mail1", type: "full", accounts: "all", requestedBy: "test" });
      const ended = await waitFor(async () => {
        const s = await prisma().backupSession.findFirstOrThrow({ where: { label: submitted.label } });
        return !["queued", "running"].includes(s.status) && s;
      }, `${submitted.label} to end`);
      expect(ended.status).toBe("failed");
      expect(ended.error).toMatch(/backup target s3:\/\/mailvault-enc\/mail1 was encrypted \(the directory records it\), but it holds no keys any more/);
      expect(await new BackupTarget(url, "mail1").backend.raw.stat(`sessions/${submitted.label}/session.json`)).toBeNull();
    } finally {
      for (const k of keys) await raw.save(k.name, k.bytes);
      await closeRepositories();
    }
    expect((await runBackup("mail1", "incremental")).label).toMatch(/^incr-/);
  });

  it("finds a flipped byte in a pack on the bucket: authentication fails and verify names the pack", async () => {
    const target = new BackupTarget(url, "mail1");
    let pack: string | undefined;
    for await (const o of target.backend.list("packs/")) pack ??= o.name;
    const file = s3.objectPath("mailvault-enc", `mail1/${pack!}`);
    const bytes = await readFile(file);
    // In the first segment, which holds the pack's first blob. (A byte near the end could fall
    // in a last segment that holds only the pack's own header, which no blob is in.)
    bytes[HEADER_BYTES + 20]! ^= 0x01;
    await writeFile(file, bytes);
    await closeRepositories();
    const report = await verifyRepository(new BackupTarget(url, "mail1"));
    expect(report.ok).toBe(false);
    const problem = report.problems.find((p) => p.path === pack);
    expect(problem?.message).toMatch(/fails authentication/);
    expect(problem?.message).toMatch(/blobs touched: [0-9a-f]{64}/);
  });
});
