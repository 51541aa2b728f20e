/**
 * The worker's heartbeat loop sweeps work that died, with no other request: a backup session and
 * a restore run whose jobs vanished from Redis are marked interrupted within a minute (the
 * session's folder says so too, and its stray temporary files are gone), while a stale session
 * whose job still waits in Redis is left alone.
 */
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorkers, type WorkerSet } from "../../workers/start-workers.ts";
import { databaseName } from "../config.ts";
import { prisma } from "../db/console-db.ts";
import { seedDemo } from "../demo/seed-demo.ts";
import { getServer } from "../directory/list-servers.ts";
import { serverQueue } from "../jobs/queues.ts";
import { createAccount } from "../mailstore/account-operations.ts";
import { openMailstore } from "../mailstore/mailstore.ts";
import { setUpServerStore } from "../mailstore/setup-mailstore.ts";
import { createTestEnv, type TestEnv } from "../testing/test-env.ts";
import { submitBackup } from "./submit-backup.ts";

let env: TestEnv;
let workers: WorkerSet | undefined;

async function waitFor<T>(probe: () => Promise<T | null | undefined | false>, what: string, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A session that a worker started and then lost: running, heartbeat ten minutes old. */
async function leftRunning(server: string): Promise<{ id: number; label: string; dir: string }> {
  const { sessionId, label } = await submitBackup({ server, type: "full", requestedBy: "test" });
  await prisma().backupSession.update({
    where: { id: sessionId },
    data: { status: "running", startedAt: new Date(Date.now() - 600_000), heartbeatAt: new Date(Date.now() - 600_000) },
  });
  const s = await getServer(server);
  const dir = path.join(s.backupTarget, "sessions", label);
  await mkdir(path.join(dir, "accounts", "a1"), { recursive: true });
  await writeFile(path.join(dir, "session.json"), JSON.stringify({ label, status: "running", endedAt: null }));
  await writeFile(path.join(dir, "plan.json"), "{}");
  // What a write cut short leaves: BackupTarget's temporary names.
  await writeFile(path.join(dir, "accounts", "a1", "items.copy.gz.tmp-0a1b2c3d"), "half");
  await writeFile(path.join(dir, "session.json.tmp-deadbeef"), "half");
  return { id: sessionId, label, dir };
}

beforeAll(async () => {
  env = await createTestEnv();
  await seedDemo({ accounts: 0, dataDir: env.dataDir, consoleDatabase: databaseName(env.databaseUrl) });
  for (const server of ["mail1", "mail2"]) {
    await setUpServerStore(server);
    await createAccount(await openMailstore(server), { email: `sweep.${server}@example.com` });
  }
}, 60_000);

afterAll(async () => {
  await workers?.close();
  await env?.cleanup();
});

describe("the sweep of dead sessions and restore runs", () => {
  it("marks a session and a restore run whose jobs vanished from Redis interrupted within a minute, and nothing else", async () => {
    // mail1: the session's jobs are lost with the queue (as when Redis lost its data).
    const lost = await leftRunning("mail1");
    await serverQueue("mail1").obliterate({ force: true });

    // mail2: just as stale, but its job still waits in Redis (delayed): not dead.
    const waiting = await leftRunning("mail2");
    const job = await serverQueue("mail2").getJob(`backup-${waiting.id}`);
    await job!.remove();
    await serverQueue("mail2").add("backup.start", { sessionId: waiting.id }, { jobId: `backup-${waiting.id}`, delay: 3_600_000 });

    // A restore run on mail2 whose jobs are gone, holding a lease on a session.
    const run = await prisma().restoreRun.create({
      data: { label: "restore-sweep-test", server: "mail2", status: "running", plan: {}, jobId: "restore-999999", heartbeatAt: new Date(Date.now() - 600_000) },
    });
    await prisma().sessionLease.create({ data: { sessionId: waiting.id, holder: run.label, expiresAt: new Date(Date.now() + 3_600_000) } });

    const started = Date.now();
    workers = await startWorkers({ servers: [{ name: "mail1", concurrency: 1 }, { name: "mail2", concurrency: 1 }] });
    const swept = await waitFor(
      async () => {
        const session = await prisma().backupSession.findUniqueOrThrow({ where: { id: lost.id } });
        const r = await prisma().restoreRun.findUniqueOrThrow({ where: { id: run.id } });
        return session.status === "interrupted" && r.status === "interrupted" && { session, run: r };
      },
      "the sweep",
      60_000,
    );
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(swept.session.error).toMatch(/no heartbeat, no job left in Redis/);
    expect(swept.session.endedAt).not.toBeNull();
    expect(swept.run.error).toMatch(/no heartbeat, no job left in Redis/);
    expect(await prisma().sessionLease.count({ where: { holder: run.label } })).toBe(0);

    // The target says it too, and only the temporary files are gone from the session's folder.
    expect(JSON.parse(await readFile(path.join(lost.dir, "session.json"), "utf8"))).toMatchObject({ status: "interrupted" });
    const left = (await readdir(lost.dir, { recursive: true })).map(String).sort();
    expect(left).toEqual(["accounts", "accounts/a1", "plan.json", "session.json"]);

    // The session whose job still waits is untouched, files and all.
    const other = await prisma().backupSession.findUniqueOrThrow({ where: { id: waiting.id } });
    expect(other.status).toBe("running");
    expect((await readdir(waiting.dir, { recursive: true })).map(String)).toContain("session.json.tmp-deadbeef");
  }, 90_000);
});
