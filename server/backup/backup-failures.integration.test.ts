/**
 * Backups that do not end well, with real processes: a worker killed with SIGKILL in the middle
 * of a session, an abort on request, and the auto-grouped rotation.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorkers } from "../../workers/start-workers.ts";
import { databaseName } from "../config.ts";
import { prisma } from "../db/console-db.ts";
import { generateTraffic } from "../demo/generate-traffic.ts";
import { seedDemo } from "../demo/seed-demo.ts";
import { getServer } from "../directory/list-servers.ts";
import { createAccount } from "../mailstore/account-operations.ts";
import { openMailstore, type Mailstore } from "../mailstore/mailstore.ts";
import { setUpServerStore } from "../mailstore/setup-mailstore.ts";
import { createTestEnv, type TestEnv } from "../testing/test-env.ts";
import { abortBackup } from "./abort-backup.ts";
import { pruneBlobs } from "./apply-retention.ts";
import { verifyServerBackups } from "./verify-session.ts";
import { submitBackup } from "./submit-backup.ts";
import { BackupTarget } from "./target.ts";

let env: TestEnv;
let store: Mailstore;
let target: BackupTarget;
const children: ChildProcess[] = [];

function spawnWorker(env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "workers/main.ts", "--server", "mail1"], {
    env: { ...process.env, LOG_LEVEL: "warn", ...env },
    stdio: "ignore",
  });
  children.push(child);
  return child;
}

async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 30_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

const session = (label: string) => prisma().backupSession.findFirstOrThrow({ where: { label } });
const finished = (label: string) => until(`session ${label} to end`, async () => {
  const s = await session(label);
  return !["queued", "running"].includes(s.status) && s;
}, 60_000, 100);

beforeAll(async () => {
  process.env.MAILVAULT_SESSION_STALE_SECONDS = "3";
  env = await createTestEnv();
  await seedDemo({ accounts: 0, dataDir: env.dataDir, consoleDatabase: databaseName(env.databaseUrl), lmtpBasePort: 20_000 + Math.floor(Math.random() * 20_000) });
  await setUpServerStore("mail1");
  store = await openMailstore("mail1");
  for (let i = 0; i < 40; i++) await createAccount(store, { email: `person${i}@example.com` });
  await generateTraffic(store, { ops: 2500, seed: 5, renames: false, concurrency: 4 });
  target = new BackupTarget((await getServer("mail1")).backupTarget, "mail1");
}, 120_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await env?.cleanup();
});

describe("a worker killed in the middle of a backup", () => {
  it("leaves an interrupted session and last_backup_at unchanged, and the next backup succeeds", async () => {
    // Small packs, so the worker dies with packs saved whose index it never wrote.
    const worker = spawnWorker({ MAILVAULT_PACK_BYTES: "65536" });
    const { label } = await submitBackup({ server: "mail1", type: "full" });
    await until("the backup to be under way with packs saved", async () => (await session(label)).accountsDone >= 1 && (await (await target.repository()).listPacks()).size > 0);
    worker.kill("SIGKILL");
    await new Promise((r) => worker.once("exit", r));

    expect((await session(label)).status).toBe("running"); // nobody has noticed yet
    expect(await target.publishedLabels()).not.toContain(label);
    const { rows } = await store.pool.query("SELECT count(*)::int AS n FROM mailstore.mailbox WHERE last_backup_at IS NOT NULL");
    expect(rows[0].n).toBe(0);

    // While its heartbeat is fresh the lock holds; once stale, the next run takes over.
    await expect(submitBackup({ server: "mail1", type: "full" })).rejects.toMatchObject({ code: "backup_in_progress" });
    await new Promise((r) => setTimeout(r, 3_500));
    spawnWorker();
    const next = await submitBackup({ server: "mail1", type: "full" });
    expect(await session(label)).toMatchObject({ status: "interrupted" });
    const leftBehind = JSON.parse(await readFile(path.join(target.root, "sessions", label, "session.json"), "utf8"));
    expect(leftBehind.status).toBe("interrupted");

    expect(await finished(next.label)).toMatchObject({ status: "completed", accountsDone: 40, accountsTotal: 40 });
    expect(await target.publishedLabels()).toEqual([next.label]);
    const { rows: after } = await store.pool.query("SELECT count(*)::int AS n FROM mailstore.mailbox WHERE last_backup_at IS NOT NULL");
    expect(after[0].n).toBe(40);

    // Verify finds nothing missing or damaged, and reports the dead worker's packs as garbage;
    // prune removes them, and what the session needs stays.
    const reports = await verifyServerBackups("mail1", { all: true });
    expect(reports.every((r) => r.ok)).toBe(true);
    const garbage = reports.find((r) => r.label === "repository")!.problems.filter((p) => p.kind === "garbage");
    expect(garbage.length).toBeGreaterThan(0);
    expect((await pruneBlobs(target)).unindexedPacksRemoved).toBe(garbage.length);
    const again = await verifyServerBackups("mail1", { all: true });
    expect(again.every((r) => r.ok && r.problems.length === 0)).toBe(true);
  });
});

describe("abort", () => {
  it("stops a running backup within seconds, marks it aborted and publishes nothing", async () => {
    const { label } = await submitBackup({ server: "mail1", type: "full" });
    await until("the backup to be under way", async () => (await session(label)).status === "running");
    const asked = Date.now();
    await abortBackup({ server: "mail1", label });
    const ended = await finished(label);
    expect(ended.status).toBe("aborted");
    expect(Date.now() - asked).toBeLessThan(8_000);
    expect(await target.publishedLabels()).not.toContain(label);
    const description = JSON.parse(await readFile(path.join(target.root, "sessions", label, "session.json"), "utf8"));
    expect(description.status).toBe("aborted");
  });
});

describe("auto-grouped mode", () => {
  it("gives every account a full within N runs, oldest first, and moves redo every run", async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
    const workers = await startWorkers({ servers: [{ name: "mail1", concurrency: 2 }] });
    try {
      const server = await prisma().server.findUniqueOrThrow({ where: { name: "mail1" } });
      await prisma().server.update({
        where: { id: server.id },
        data: { backupMode: "auto_grouped", settings: { ...(server.settings as object), autoGrouped: { groups: 4, throttle: true } } },
      });
      for (let i = 0; i < 4; i++) await createAccount(store, { email: `newcomer${i}@example.com` });
      const fulls = new Map<string, number>();
      for (let run = 0; run < 4; run++) {
        await generateTraffic(store, { ops: 30, seed: 100 + run, renames: false, concurrency: 1 });
        const submitted = await submitBackup({ server: "mail1", type: "full" });
        expect(submitted.mode).toBe("auto_grouped");
        const done = await finished(submitted.label);
        expect(done.status).toBe("completed");
        expect(done.redoSegments).toBeGreaterThan(0);
        const accounts = await prisma().sessionAccount.findMany({ where: { sessionId: done.id, kind: "full" } });
        expect(accounts.length).toBe(11); // ceil(44 / 4)
        if (run === 0) expect(accounts.filter((a) => a.reason === "never backed up").map((a) => a.email).sort()).toEqual(["newcomer0@example.com", "newcomer1@example.com", "newcomer2@example.com", "newcomer3@example.com"]);
        for (const a of accounts) fulls.set(a.accountId, (fulls.get(a.accountId) ?? 0) + 1);
      }
      expect(fulls.size).toBe(44);
    } finally {
      await workers.close();
    }
  });
});
