/**
 * A server whose backup target is an S3 bucket (s3rver on 127.0.0.1, reached over HTTP by the
 * AWS SDK): a full and an incremental are published there, verify reads them back, a flipped
 * byte in a pack on the bucket is named, and a restore whose blobs are gone from the volume
 * brings the mailbox back, identical, from the bucket alone.
 */
import { createHash } from "node:crypto";
import { readFile, rm, writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorkers } from "../../workers/start-workers.ts";
import { prisma } from "../db/console-db.ts";
import { generateTraffic } from "../demo/generate-traffic.ts";
import { dashboardFacts } from "../health/dashboard-facts.ts";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { groupSchema } from "../mailstore/schema.ts";
import { exportMailbox } from "../restore/export-mailbox.ts";
import { useMailServer } from "../testing/mail-server-fixture.ts";
import { startS3Server, type S3TestServer } from "../testing/s3-server.ts";
import { restoresSettled, runBackup, runRestore, waitFor } from "../testing/wait-for-runs.ts";
import { submitBackup } from "./submit-backup.ts";
import { BackupTarget, closeRepositories } from "./target.ts";
import { verifyRepository, verifySession } from "./verify-session.ts";

let s3: S3TestServer;
let store: Mailstore;
let target: BackupTarget;
let accounts: { accountId: string; email: string }[];
const url = () => s3.url("mailvault-test", "mail1");

// The bucket is up before mail1 is set up with it, and goes last, after the workers have stopped.
beforeAll(async () => {
  s3 = await startS3Server({ buckets: ["mailvault-test"] });
});
afterAll(async () => {
  await closeRepositories();
  await s3?.stop();
});

const fx = useMailServer({ backupTarget: url, accounts: { prefix: "s3user", count: 4 }, traffic: { ops: 200, seed: 11 }, workers: startWorkers });

beforeAll(() => {
  ({ store, accounts } = fx);
  target = new BackupTarget(url(), "mail1");
});

async function blobDigests(accountId: string): Promise<string[]> {
  const { rows } = await store.pool.query<{ group_id: number; id: number }>("SELECT group_id, id FROM mailstore.mailbox WHERE account_id = $1", [accountId]);
  const box = rows[0]!;
  const { rows: items } = await store.pool.query<{ blob_digest: string }>(`SELECT DISTINCT blob_digest FROM ${groupSchema(box.group_id)}.item WHERE mailbox_id = $1 AND blob_digest IS NOT NULL`, [box.id]);
  return items.map((i) => i.blob_digest);
}

describe("an S3 backup target", () => {
  let full: string;
  let incremental: string;

  it("holds a published full and incremental, which verify reads back whole", async () => {
    full = (await runBackup("mail1", "full")).label;
    await generateTraffic(store, { ops: 80, seed: 12, renames: false, concurrency: 2 });
    incremental = (await runBackup("mail1", "incremental")).label;
    expect(await target.sessions()).toEqual(
      expect.arrayContaining([
        { label: full, published: true, legacy: false },
        { label: incremental, published: true, legacy: false },
      ]),
    );
    // The objects are in the bucket, under the target's prefix: packs, an index, the sessions.
    const names: string[] = [];
    for await (const o of target.backend.list("")) names.push(o.name);
    expect(names.some((n) => n.startsWith("packs/"))).toBe(true);
    expect(names.some((n) => n.startsWith("index/"))).toBe(true);
    expect(names).toContain(`sessions/${full}/manifest.sha256`);
    expect(target.backend.location).toBe("s3://mailvault-test/mail1");
    for (const label of [full, incremental]) expect(await verifySession(target, label)).toMatchObject({ ok: true, problems: [] });
    // The dashboard says what the target is, rather than a free-space error.
    const facts = (await dashboardFacts()).servers.find((f) => f.server === "mail1");
    expect(facts).toMatchObject({ objectStore: "s3://mailvault-test/mail1", freeSpace: null, freeSpaceError: null });
  });

  it("restores an account whose blobs are gone from the volume, identical, from the bucket alone", async () => {
    const [alice] = accounts;
    const before = await exportMailbox(store, alice!);
    const digests = await blobDigests(alice!.accountId);
    expect(digests.length).toBeGreaterThan(0);
    for (const digest of digests) await rm(store.blobs.path(digest), { force: true });

    const restored = await runRestore({ server: "mail1", accounts: [alice!.email], copy: true, prefix: "s3_" });
    const copy = await prisma().account.findFirstOrThrow({ where: { email: `s3_${alice!.email}` } });
    expect(await exportMailbox(store, { accountId: copy.id })).toEqual(before);
    for (const digest of digests) expect(createHash("sha256").update(await readFile(store.blobs.path(digest))).digest("hex")).toBe(digest);
    expect(restored.plan.accounts[0]!.snapshot?.session).toBe(full);
  });

  it("leaves nothing published when the store goes away mid-session, and the next session succeeds", async () => {
    await restoresSettled(); // the restore above queued a full of its copy
    await generateTraffic(store, { ops: 60, seed: 13, renames: false, concurrency: 2 });
    // Cut the network the moment the session stores its first account file (a changed account's, shared by content).
    const stopped = s3.stopOnPut((key) => key.startsWith("mail1/dumps/"));
    const submitted = await submitBackup({ server: "mail1", type: "full", accounts: "all", requestedBy: "test" });
    await stopped;
    const ended = await waitFor(async () => {
      const s = await prisma().backupSession.findFirstOrThrow({ where: { label: submitted.label } });
      return !["queued", "running"].includes(s.status) && s;
    }, `${submitted.label} to end`, 180_000);
    expect(["failed", "interrupted"]).toContain(ended.status);
    expect(ended.error).toMatch(/ECONNREFUSED|socket hang up|ECONNRESET|connect/i);
    await s3.restart();
    expect(await target.sessions()).not.toContainEqual(expect.objectContaining({ label: submitted.label, published: true }));
    const next = await runBackup("mail1", "full");
    expect(await verifySession(target, next.label)).toMatchObject({ ok: true, problems: [] });
  });

  it("names a pack whose bytes were flipped on the bucket, and the blobs it touches", async () => {
    let pack: string | undefined;
    for await (const o of target.backend.list("packs/")) pack ??= o.name;
    const file = s3.objectPath("mailvault-test", `mail1/${pack!}`);
    const bytes = await readFile(file);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    await writeFile(file, bytes);
    const report = await verifyRepository(target);
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.path)).toContain(pack);
  });
});
