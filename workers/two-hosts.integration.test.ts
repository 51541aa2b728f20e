/**
 * Workers on several hosts, as far as one machine can show it: two real worker processes, each
 * with its own data folder, serve mail1, whose backup target is an S3 bucket (s3rver). They share
 * one full backup's account batches; one is SIGKILLed while it holds a batch, and the session
 * still completes on the other (BullMQ's stalled-job check hands the batch over), verified.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { submitBackup } from "../server/backup/submit-backup.ts";
import { BackupTarget, closeRepositories } from "../server/backup/target.ts";
import { verifySession } from "../server/backup/verify-session.ts";
import { prisma } from "../server/db/console-db.ts";
import { checkHealth } from "../server/health/check-health.ts";
import { serverQueue } from "../server/jobs/queues.ts";
import { useMailServer } from "../server/testing/mail-server-fixture.ts";
import { startS3Server, type S3TestServer } from "../server/testing/s3-server.ts";
import { waitFor } from "../server/testing/wait-for-runs.ts";

let s3: S3TestServer;
const url = () => s3.url("mailvault-hosts", "mail1");
const hosts: { child: ChildProcess; dataDir: string; exited: Promise<number | null> }[] = [];

beforeAll(async () => {
  s3 = await startS3Server({ buckets: ["mailvault-hosts"] });
});
afterAll(async () => {
  for (const host of hosts) {
    host.child.kill("SIGTERM");
    await host.exited;
    await rm(host.dataDir, { recursive: true, force: true });
  }
  await closeRepositories();
  await s3?.stop();
});

useMailServer({ backupTarget: url, accounts: { prefix: "host", count: 24 }, traffic: { ops: 600, seed: 41 }, settings: { workerConcurrency: 1 } });

/** A worker host: its own process and data folder; mail goes to the other host's LMTP listener (none here). */
async function startHost(): Promise<(typeof hosts)[number]> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "mailvault-host-"));
  const child = spawn(process.execPath, ["--import", "tsx", "workers/main.ts", "--server", "mail1", "--no-lmtp"], {
    env: { ...process.env, MAILVAULT_DATA_DIR: dataDir, LOG_LEVEL: "warn" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const host = { child, dataDir, exited };
  hosts.push(host);
  return host;
}

describe("two worker hosts with separate data folders and one S3 target", () => {
  it("finish a full backup on the survivor when one is killed holding a batch", { timeout: 300_000 }, async () => {
    const [a, b] = [await startHost(), await startHost()];
    expect(a.dataDir).not.toBe(b.dataDir);
    await waitFor(async () => (await checkHealth()).workers.mail1?.count === 2, "both worker hosts to beat", 120_000);

    const submitted = await submitBackup({ server: "mail1", type: "full", accounts: "all", requestedBy: "test" });
    // Kill a host the moment it holds an account batch: its job stays active until BullMQ finds it stalled.
    const victim = await waitFor(async () => {
      for (const job of await serverQueue("mail1").getActive()) {
        if (job.name !== "backup.accounts") continue;
        const host = hosts.find((h) => job.processedBy?.includes(`:${h.child.pid}:`));
        if (host) return { host, job: job.id! };
      }
      return null;
    }, "a host to take an account batch", 120_000);
    victim.host.child.kill("SIGKILL");
    expect(await victim.host.exited).toBeNull();
    const survivor = hosts.find((h) => h !== victim.host)!;

    const session = await waitFor(async () => {
      const s = await prisma().backupSession.findFirstOrThrow({ where: { label: submitted.label } });
      return !["queued", "running"].includes(s.status) && s;
    }, `${submitted.label} to end on the surviving host`, 240_000);
    expect(session).toMatchObject({ status: "completed", accountsTotal: 24, error: null });
    expect(await prisma().sessionAccount.count({ where: { sessionId: session.id, kind: "full" } })).toBe(24);

    // The batch the killed host held was run again, to the end, by the other one.
    const batch = await serverQueue("mail1").getJob(victim.job);
    expect(batch?.processedBy).toContain(`:${survivor.child.pid}:`);
    expect(await batch?.getState()).toBe("completed");
    expect(await verifySession(new BackupTarget(url(), "mail1"), submitted.label)).toMatchObject({ ok: true, problems: [] });
    expect(survivor.child.exitCode).toBeNull();
  });
});
