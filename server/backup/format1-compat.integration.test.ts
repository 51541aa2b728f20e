/**
 * Targets written before repository format 2 keep their blobs as files of their own
 * (`blobs/ab/cd/<sha256>`, gzip'd when that saved space). Their sessions still restore, and the
 * next backup adds only packs.
 */
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorkers, type WorkerSet } from "../../workers/start-workers.ts";
import { databaseName } from "../config.ts";
import { prisma } from "../db/console-db.ts";
import { generateTraffic } from "../demo/generate-traffic.ts";
import { seedDemo } from "../demo/seed-demo.ts";
import { getServer } from "../directory/list-servers.ts";
import { createAccount } from "../mailstore/account-operations.ts";
import { openMailstore, type Mailstore } from "../mailstore/mailstore.ts";
import { setUpServerStore } from "../mailstore/setup-mailstore.ts";
import { exportMailbox } from "../restore/export-mailbox.ts";
import { createTestEnv, type TestEnv } from "../testing/test-env.ts";
import { runBackup, runRestore } from "../testing/wait-for-runs.ts";
import { BackupTarget, closeRepositories, legacyBlobName } from "./target.ts";

let env: TestEnv;
let store: Mailstore;
let workers: WorkerSet | undefined;

beforeAll(async () => {
  env = await createTestEnv();
  await seedDemo({ accounts: 0, dataDir: env.dataDir, consoleDatabase: databaseName(env.databaseUrl) });
  await setUpServerStore("mail1");
  store = await openMailstore("mail1");
  for (let i = 0; i < 3; i++) await createAccount(store, { email: `old${i}@example.com` });
  await generateTraffic(store, { ops: 150, seed: 12, renames: false, concurrency: 2 });
  workers = await startWorkers({ servers: [{ name: "mail1", concurrency: 2 }] });
});

afterAll(async () => {
  await workers?.close();
  await closeRepositories();
  await env?.cleanup();
});

describe("format-1 targets", () => {
  it("restore their sessions, and take packs from then on", async () => {
    await runBackup("mail1", "full");
    const server = await getServer("mail1");
    const target = new BackupTarget(server.backupTarget, server.name);

    // Rewrite the target as format 1 left it: each blob a file of its own, no packs, no index.
    const repo = await target.repository({ reload: true });
    const digests = [...repo.index.digests()];
    expect(digests.length).toBeGreaterThan(20);
    for (const [i, digest] of digests.entries()) {
      const bytes = await repo.read(digest);
      const file = path.join(target.root, legacyBlobName(digest));
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, i % 2 ? gzipSync(bytes) : bytes);
    }
    await rm(path.join(target.root, "packs"), { recursive: true });
    await rm(path.join(target.root, "index"), { recursive: true });
    await workers!.close();
    await closeRepositories();
    workers = await startWorkers({ servers: [{ name: "mail1", concurrency: 2 }] });

    const { rows } = await store.pool.query<{ account_id: string; email: string }>("SELECT account_id, email FROM mailstore.mailbox ORDER BY id LIMIT 1");
    const source = rows[0]!;
    const before = await exportMailbox(store, { accountId: source.account_id });
    // The blob volume is lost too, so every body must come from the format-1 files.
    await rm(server.blobVolumePath, { recursive: true, force: true });
    await mkdir(server.blobVolumePath, { recursive: true });
    const submitted = await runRestore({ server: "mail1", accounts: [source.email], copy: true, prefix: "f1_" });
    const run = await prisma().restoreRun.findUniqueOrThrow({ where: { id: submitted.runId } });
    const restored = (run.result as { restored: { blobsCopied: number }[] }).restored[0]!;
    expect(restored.blobsCopied).toBeGreaterThan(5);
    const copy = submitted.plan.accounts[0]!.target.email;
    const { rows: copied } = await store.pool.query<{ account_id: string }>("SELECT account_id FROM mailstore.mailbox WHERE email = $1", [copy]);
    const after = await exportMailbox(store, { accountId: copied[0]!.account_id });
    expect(after).toEqual(before);

    // A new full of changed data writes packs only; the format-1 files stay as they were.
    await generateTraffic(store, { ops: 40, seed: 13, renames: false, concurrency: 1 });
    await runBackup("mail1", "full");
    expect((await readdir(path.join(target.root, "packs"))).length).toBeGreaterThan(0);
    for (const digest of digests.slice(0, 5)) expect(await target.hasBlob(digest)).toBe(true);
  });
});
