/**
 * Copies to a second target (`mailvault copy`): mail1 backs up to a plain folder and copies to an
 * encrypted S3 bucket (s3rver on 127.0.0.1). The second copy sends nothing, a copy after a new
 * incremental sends only that session's new packs, every copy verifies at the destination, a
 * restore reads the copy once the primary is gone, and mistakes are refused before anything moves.
 */
import { createHash } from "node:crypto";
import { readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorkers } from "../../workers/start-workers.ts";
import { consolePool, prisma } from "../db/console-db.ts";
import { generateTraffic } from "../demo/generate-traffic.ts";
import { addCopyTarget, removeCopyTarget } from "../directory/copy-targets.ts";
import { getServer } from "../directory/list-servers.ts";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { createAccount } from "../mailstore/account-operations.ts";
import { groupSchema } from "../mailstore/schema.ts";
import { packIdOf } from "../repository/pack-format.ts";
import { initEncryption } from "../repository/repository-keys.ts";
import { exportMailbox } from "../restore/export-mailbox.ts";
import { useMailServer } from "../testing/mail-server-fixture.ts";
import { startS3Server, type S3TestServer } from "../testing/s3-server.ts";
import { restoresSettled, runBackup, runRestore } from "../testing/wait-for-runs.ts";
import { runCopy } from "./copy-sessions.ts";
import { rescanCatalog } from "./rescan-catalog.ts";
import { describeTargets } from "./server-targets.ts";
import { BackupTarget, backendFor, closeRepositories, isAccountFileObject } from "./target.ts";

const PASSPHRASE = "copies go off-site sealed";
const previous = process.env.MAILVAULT_TARGET_PASSPHRASE;
let s3: S3TestServer;
let url: string;
let store: Mailstore;

beforeAll(async () => {
  s3 = await startS3Server({ buckets: ["mailvault-copies"] });
  url = s3.url("mailvault-copies", "mail1");
});
afterAll(async () => {
  await closeRepositories();
  await s3?.stop();
  if (previous === undefined) delete process.env.MAILVAULT_TARGET_PASSPHRASE;
  else process.env.MAILVAULT_TARGET_PASSPHRASE = previous;
});

const fx = useMailServer({ accounts: { prefix: "copy", count: 3 }, traffic: { ops: 200, seed: 31 }, workers: startWorkers });

beforeAll(async () => {
  store = fx.store;
  process.env.MAILVAULT_TARGET_PASSPHRASE = PASSPHRASE;
  await initEncryption(backendFor(url).raw, PASSPHRASE);
  // The demo's offsite folder gives way to the bucket.
  await removeCopyTarget("mail1", "offsite");
  await addCopyTarget("mail1", { name: "offsite", url });
});

async function packs(target: BackupTarget): Promise<Set<string>> {
  const found = new Set<string>();
  for await (const o of target.backend.raw.list("packs/")) found.add(packIdOf(o.name)!);
  return found;
}

async function blobDigests(accountId: string): Promise<string[]> {
  const { rows } = await store.pool.query<{ group_id: number; id: number }>("SELECT group_id, id FROM mailstore.mailbox WHERE account_id = $1", [accountId]);
  const box = rows[0]!;
  const { rows: items } = await store.pool.query<{ blob_digest: string }>(`SELECT DISTINCT blob_digest FROM ${groupSchema(box.group_id)}.item WHERE mailbox_id = $1 AND blob_digest IS NOT NULL`, [box.id]);
  return items.map((i) => i.blob_digest);
}

/**
 * The primary target back where it was. The restore's follow-up full backup ran while it was
 * away, into a new empty folder: that folder goes, and the catalog is rebuilt from the target
 * (catalog --rescan), so no session the target does not hold stays in it.
 */
async function bringPrimaryBack(moved: string): Promise<void> {
  await restoresSettled();
  const root = moved.replace(/\.lost$/, "");
  await rm(root, { recursive: true, force: true });
  await rename(moved, root);
  await rescanCatalog("mail1");
}

describe("copies to a second target", () => {
  let primary: BackupTarget;
  let offsite: BackupTarget;
  const labels: string[] = [];

  beforeAll(async () => {
    const server = await getServer("mail1");
    primary = new BackupTarget(server.backupTarget, "mail1");
    offsite = new BackupTarget(url, "mail1");
  });

  it("copies a full and an incremental, verified there, and sends nothing the second time", async () => {
    // Two empty mailboxes, whose dumps and blob lists are the same objects.
    for (const email of ["copy-empty1@example.com", "copy-empty2@example.com"]) await createAccount(store, { email });
    labels.push((await runBackup("mail1", "full")).label);
    await generateTraffic(store, { ops: 80, seed: 32, renames: false, concurrency: 2 });
    labels.push((await runBackup("mail1", "incremental")).label);

    const first = await runCopy("mail1", { to: "offsite", all: true });
    expect(first.map((r) => [r.label, r.status, r.verified])).toEqual(labels.map((l) => [l, "copied", true]));
    expect(first[0]!.packsSent).toBeGreaterThan(0);
    // The full's own files, and each account file its manifest names sent once, however many
    // accounts share it.
    const own = (await primary.sessionFiles(labels[0]!, "")).filter((f) => f.path !== "manifest.sha256");
    const named = [...(await primary.sessionManifest(labels[0]!)).values()].map((e) => e.object).filter(isAccountFileObject);
    expect(new Set(named).size).toBeLessThan(named.length);
    expect(first[0]!.files).toBe(own.length + new Set(named).size);
    // Every pack the primary holds is needed by these two sessions, and is now on the bucket too.
    expect(await packs(offsite)).toEqual(await packs(primary));
    expect(await offsite.publishedLabels()).toEqual(labels);

    const again = await runCopy("mail1", { to: "offsite", all: true });
    expect(again.map((r) => [r.status, r.packsSent, r.bytesSent])).toEqual(labels.map(() => ["present", 0, 0]));

    // The copy is sealed under the bucket's key: a pack there is not a pack in the clear.
    const pack = [...(await packs(offsite))][0]!;
    const sealed = await readFile(s3.objectPath("mailvault-copies", `mail1/packs/${pack.slice(0, 2)}/${pack}`));
    const plain = await primary.backend.raw.read(`packs/${pack.slice(0, 2)}/${pack}`);
    expect(plain.subarray(0, 8).toString()).toBe("MVPACK02");
    expect(sealed.includes(plain.subarray(0, 8))).toBe(false);
  });

  it("sends only the new packs of a new session", async () => {
    const before = await packs(primary);
    await generateTraffic(store, { ops: 60, seed: 33, renames: false, concurrency: 2 });
    // An incremental keeps new mail in its redo; a full packs what no pack holds yet.
    const label = (await runBackup("mail1", "full")).label;
    labels.push(label);
    const added = [...(await packs(primary))].filter((p) => !before.has(p));
    expect(added.length).toBeGreaterThan(0);

    const reports = await runCopy("mail1", { to: "offsite", all: true });
    const copied = reports.filter((r) => r.status === "copied");
    expect(copied.map((r) => r.label)).toEqual([label]);
    expect(copied[0]!.packsSent).toBe(added.length);
    expect(await packs(offsite)).toEqual(await packs(primary));

    const views = await describeTargets(await getServer("mail1"));
    expect(views.map((v) => [v.name, v.role, v.kind, v.encrypted])).toEqual([
      ["primary", "primary", "folder", false],
      ["offsite", "copy", "s3", true],
    ]);
    expect(views[1]).toMatchObject({ sessions: 3, lastCopy: { label, verified: true }, error: null });
  });

  it("restores from the copy, identical, once the primary target is gone", async () => {
    const [account] = fx.accounts;
    const before = await exportMailbox(store, account!);
    const digests = await blobDigests(account!.accountId);
    for (const digest of digests) await rm(store.blobs.path(digest), { force: true });
    const moved = `${primary.root}.lost`;
    await rename(primary.root, moved);
    try {
      await runRestore({ server: "mail1", accounts: [account!.email], copy: true, prefix: "fromcopy_" });
      const copy = await prisma().account.findFirstOrThrow({ where: { email: `fromcopy_${account!.email}` } });
      expect(await exportMailbox(store, { accountId: copy.id })).toEqual(before);
      for (const digest of digests) expect(createHash("sha256").update(await readFile(store.blobs.path(digest))).digest("hex")).toBe(digest);
    } finally {
      await bringPrimaryBack(moved);
    }
  });

  it("says what each target lacks when none holds every session a restore reads", async () => {
    await generateTraffic(store, { ops: 40, seed: 34, renames: false, concurrency: 2 });
    const newest = (await runBackup("mail1", "incremental")).label;
    const [, account] = fx.accounts;
    const moved = `${primary.root}.lost`;
    await rename(primary.root, moved);
    try {
      const error = await runRestore({ server: "mail1", accounts: [account!.email], copy: true, prefix: "nocopy_" }).then(() => null, (e: Error) => e);
      expect(error?.message).toContain("no target of mail1 holds every session this restore reads");
      expect(error?.message).toContain(`offsite (s3://mailvault-copies/mail1) lacks ${newest}`);
    } finally {
      await bringPrimaryBack(moved);
    }
  });

  it("verifies again a session published there that no copy verified, and sends it again when it fails", async () => {
    // As if a copy was cut off between its publish and its verify, and the object then damaged.
    const label = labels[0]!;
    await consolePool().query("DELETE FROM session_copy WHERE label = $1", [label]);
    const [account] = fx.accounts;
    // mailbox.json is a shared object (dumps/ab/<sha256>), sent once and named by the session's manifest.
    const object = await primary.sessionFileObject(label, `accounts/${account!.accountId}/mailbox.json`);
    expect(object).toMatch(/^dumps\//);
    const file = s3.objectPath("mailvault-copies", `mail1/${object}`);
    const bytes = await readFile(file);
    bytes[bytes.length - 20]! ^= 0xff;
    await writeFile(file, bytes);
    const reports = await runCopy("mail1", { to: "offsite", all: true });
    expect(reports.find((r) => r.label === label)).toMatchObject({ status: "copied", verified: true });
    // Those copied and verified before are left alone.
    for (const other of labels.slice(1, 3)) expect(reports.find((r) => r.label === other)?.status).toBe("present");
    expect((await runCopy("mail1", { to: "offsite", label })).map((r) => r.status)).toEqual(["present"]);
  });

  it("refuses to copy into a folder target that is not there (a missing mount), rather than make it", async () => {
    const folder = path.join(os.tmpdir(), `mailvault-unmounted-${process.pid}`);
    await addCopyTarget("mail1", { name: "usb", url: folder });
    await rm(folder, { recursive: true, force: true });
    try {
      await expect(runCopy("mail1", { to: "usb", all: true })).rejects.toThrow(/copy target usb \(.*\) is not a folder on this host: is it mounted\?/);
      await expect(stat(folder)).rejects.toMatchObject({ code: "ENOENT" });
    } finally {
      await removeCopyTarget("mail1", "usb");
    }
  });

  it("refuses an unknown target, an unknown session and a copy target twice, changing nothing", async () => {
    await expect(runCopy("mail1", { to: "nowhere", all: true })).rejects.toMatchObject({ code: "target_not_found", message: expect.stringContaining("offsite") });
    await expect(runCopy("mail1", { to: "offsite", label: "full-20200101.000000.000" })).rejects.toMatchObject({ code: "session_not_found" });
    await expect(runCopy("mail1", { to: "offsite" })).rejects.toMatchObject({ code: "invalid_input" });
    await expect(addCopyTarget("mail1", { name: "again", url })).rejects.toMatchObject({ code: "invalid_input", message: expect.stringContaining("offsite") });
    // The same bucket and prefix, spelt another way, is the same place.
    await expect(addCopyTarget("mail1", { name: "again", url: `${url}&region=eu-west-1` })).rejects.toMatchObject({ code: "invalid_input", message: expect.stringContaining("offsite") });
    await expect(addCopyTarget("mail1", { name: "offsite", url: "/tmp/elsewhere" })).rejects.toMatchObject({ code: "target_exists" });
    await expect(addCopyTarget("mail1", { name: "Bad Name", url: "/tmp/elsewhere" })).rejects.toMatchObject({ code: "invalid_input" });
    await expect(addCopyTarget("mail1", { name: "rel", url: "relative/path" })).rejects.toMatchObject({ code: "invalid_input" });
    await expect(addCopyTarget("mail1", { name: "creds", url: "s3://user:secret@bucket/x" })).rejects.toMatchObject({ code: "invalid_input" });
    await expect(removeCopyTarget("mail1", "nowhere")).rejects.toMatchObject({ code: "target_not_found" });
    expect((await getServer("mail1")).settings.copyTargets).toEqual([{ name: "offsite", url }]);
  });
});
