/**
 * The backup administrator's tools, through the CLI as cron runs it (real processes) against a
 * real worker: backup --wait, backupquery by a former name, retention that keeps what a restore
 * chain needs, verify that finds a flipped byte and a missing blob, and a catalog rebuilt from
 * the target alone.
 */
import { execFile } from "node:child_process";
import { cp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { startWorkers } from "../../workers/start-workers.ts";
import { prisma } from "../db/console-db.ts";
import { generateTraffic } from "../demo/generate-traffic.ts";
import { getServer } from "../directory/list-servers.ts";
import { BlobStore } from "../mailstore/blob-store.ts";
import { renameAccount } from "../mailstore/account-operations.ts";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { flipByteInBlob } from "../testing/damage-target.ts";
import { useMailServer } from "../testing/mail-server-fixture.ts";
import { BackupTarget } from "./target.ts";

const fx = useMailServer({ accounts: { prefix: "staff", count: 6 }, traffic: { ops: 300, seed: 8 }, workers: startWorkers });
let store: Mailstore;
let target: BackupTarget;
const labels: string[] = [];

async function mailvault(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)("./bin/mailvault", args, { env: process.env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  store = fx.store;
  target = new BackupTarget((await getServer("mail1")).backupTarget, "mail1");
});

describe("backup from the command line", () => {
  it("runs full and incremental sessions with --wait and exits 0 when they complete", async () => {
    for (const flag of ["-f", "-i", "-f", "-i"]) {
      await generateTraffic(store, { ops: 40, seed: labels.length + 20, renames: false, concurrency: 1 });
      const run = await mailvault("backup", flag, "-s", "mail1", "--wait");
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      const [label, status] = run.stdout.trim().split(" ");
      expect(status).toBe("completed");
      labels.push(label!);
    }
    expect(labels.map((l) => l.slice(0, 4))).toEqual(["full", "incr", "full", "incr"]);
  });

  it("explains a mistake in one line and exits non-zero", async () => {
    const both = await mailvault("backup", "-f", "-i", "-s", "mail1");
    expect(both.code).toBe(1);
    expect(both.stderr.trim()).toBe("mailvault: choose one: -f (full) or -i (incremental)");
    const badTime = await mailvault("backupquery", "--from", "last tuesday");
    expect(badTime.stderr.trim()).toMatch(/^mailvault: unknown from time "last tuesday": use/);
  });
});

describe("backupquery", () => {
  it("finds an account's sessions by a name it no longer has, and says the name it had then", async () => {
    const { rows } = await store.pool.query("SELECT account_id FROM mailstore.mailbox WHERE email = 'staff2@example.com'");
    await renameAccount(store, { accountId: rows[0].account_id, newEmail: "staff2.renamed@example.com" });
    const run = await mailvault("backupquery", "-a", "staff2@example.com", "--json");
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.sessions.map((s: { label: string }) => s.label).sort()).toEqual([...labels].sort());
    expect(result.sessions.every((s: { accountEmail: string }) => s.accountEmail === "staff2@example.com")).toBe(true);
    const byType = JSON.parse((await mailvault("backupquery", "-s", "mail1", "--type", "full", "--json")).stdout);
    expect(byType.sessions.map((s: { label: string }) => s.label).sort()).toEqual([labels[0], labels[2]].sort());
  });
});

describe("verify", () => {
  it("passes an intact session and finds a flipped byte and a missing blob", async () => {
    const label = labels[2]!;
    expect((await mailvault("verify", "-s", "mail1", "-lb", label)).code).toBe(0);

    const [account] = await target.sessionAccountIds(label);
    // The account's dump is a shared object its session's manifest names.
    const object = await target.sessionFileObject(label, `accounts/${account}/items.copy.gz`);
    expect(object).toMatch(/^dumps\/[0-9a-f]{2}\/[0-9a-f]{64}$/);
    const items = path.join(target.root, object);
    const original = await readFile(items);
    const damaged = Buffer.from(original);
    damaged[10] = damaged[10]! ^ 0x20;
    await writeFile(items, damaged);
    // A flipped byte inside one blob's bytes in its pack: verify names the pack and the blob.
    const blob = (await target.readSessionFile(label, `accounts/${account}/blobs.txt`)).toString("utf8").split("\n")[0]!;
    const at = await flipByteInBlob(target, blob);
    try {
      const run = await mailvault("verify", "-s", "mail1", "-lb", label);
      expect(run.code).toBe(1);
      expect(run.stdout).toContain(`file accounts/${account}/items.copy.gz (${object}): checksum mismatch`);
      expect(run.stdout).toMatch(new RegExp(`blob ${blob}: pack ${at.pack} is damaged: blob ${blob} (does not match its digest|cannot be decompressed)`));
      // A restore that needs the blob refuses in verify's words, and writes no wrong bytes.
      const volume = new BlobStore(path.join(fx.env.dataDir, "restore-volume"));
      await expect(target.restoreBlobs([blob], volume)).rejects.toThrow(new RegExp(`pack ${at.pack} is damaged: blob ${blob} (does not match its digest|cannot be decompressed)`));
      expect(await volume.has(blob)).toBe(false);
    } finally {
      await writeFile(items, original);
      await at.restore();
    }
    expect((await mailvault("verify", "-s", "mail1", "--all")).code).toBe(0);
  });
});

describe("retention", () => {
  it("plans first, then deletes only what no kept session builds on, and prunes unreferenced blobs", async () => {
    const lastIncr = labels[3]!;
    const plan = await mailvault("backup", "-del", lastIncr, "-s", "mail1", "--plan");
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain(`delete  ${labels[0]}`);
    expect(plan.stdout).toContain(`delete  ${labels[1]}`);
    expect(plan.stdout).toMatch(new RegExp(`keep    ${labels[2]}  \\(holds the newest full of \\d+ account`));
    expect(plan.stdout).toContain("plan only: nothing deleted");
    expect(await target.publishedLabels()).toEqual([...labels].sort());

    const applied = await mailvault("backup", "-del", lastIncr, "-s", "mail1");
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/deleted 2 session\(s\); pruned \d+ blob\(s\)/);
    expect(await target.publishedLabels()).toEqual([labels[2], labels[3]].sort());
    expect((await readdir(path.join(target.root, "sessions"))).sort()).toEqual([labels[2], labels[3]].sort());
    expect((await mailvault("verify", "-s", "mail1", "--all")).code).toBe(0);

    const bad = await mailvault("backup", "-del", "7 days", "-s", "mail1");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/unknown age "7 days"/);
  });
});

describe("catalog rescan", () => {
  it("rebuilds the catalog from the target alone", async () => {
    const before = await prisma().backupSession.findMany({ include: { accounts: true }, orderBy: { label: "asc" } });
    await prisma().backupSession.deleteMany({});
    const run = await mailvault("catalog", "--rescan", "-s", "mail1");
    expect(run.code).toBe(0);
    const after = await prisma().backupSession.findMany({ include: { accounts: true }, orderBy: { label: "asc" } });
    const shape = (rows: typeof before) =>
      rows.map((s) => ({ label: s.label, status: s.status, type: s.type, through: s.redoThroughSeq, accounts: s.accounts.map((a) => `${a.accountId}:${a.email}:${a.kind}`).sort() }));
    expect(shape(after)).toEqual(shape(before));
  });

  it("takes a session killed after writing its files but before its commit object as interrupted, and never reads it", async () => {
    // What a worker killed between the flush and the commit leaves: every file, session.json
    // saying completed, and no manifest.sha256.
    const [published] = await target.publishedLabels();
    const label = "full-20260101.000000.000";
    const from = path.join(target.root, "sessions", published!);
    const to = path.join(target.root, "sessions", label);
    await cp(from, to, { recursive: true });
    await rm(path.join(to, "manifest.sha256"));
    const description = JSON.parse(await readFile(path.join(to, "session.json"), "utf8"));
    await writeFile(path.join(to, "session.json"), JSON.stringify({ ...description, label, status: "completed" }));

    expect(await target.publishedLabels()).not.toContain(label);
    const run = await mailvault("catalog", "--rescan", "-s", "mail1");
    expect(run.code).toBe(0);
    expect(await prisma().backupSession.findFirstOrThrow({ where: { label } })).toMatchObject({ status: "interrupted" });
    const verify = await mailvault("verify", "-lb", label, "-s", "mail1");
    expect(verify.code).not.toBe(0);
    await rm(to, { recursive: true });
  });
});
