/**
 * Backup schedules against real PostgreSQL, Redis and a worker: Zimbra's defaults become BullMQ
 * job schedulers with the right pattern and zone, a replace swaps them, a bad pattern changes
 * nothing, a worker's start puts a lost schedule back, and a scheduled job, fired the way its
 * scheduler fires it, runs a backup as `schedule` end to end (or is skipped, logged, while
 * another backup runs).
 */
import type { Job } from "bullmq";
import { describe, expect, it } from "vitest";
import { startWorkers } from "../../workers/start-workers.ts";
import { prisma } from "../db/console-db.ts";
import { serverQueue } from "../jobs/queues.ts";
import { useMailServer } from "../testing/mail-server-fixture.ts";
import { waitFor } from "../testing/wait-for-runs.ts";
import { createSession, finishSession } from "../backup/catalog.ts";
import { appendToSchedule, applyDefaultSchedule, clearSchedule, getSchedule, listSchedules, replaceSchedule } from "./manage-schedule.ts";

// No workers yet: a test starts them, to show their start puts a lost schedule back.
const fx = useMailServer({ accounts: { prefix: "sched", count: 3 }, traffic: { ops: 120, seed: 5 }, timeoutMs: 180_000 });
// A zone where neither 00:00 nor 01:00 is near, so no default entry fires during the test.
const hour = (tz: string) => Number(new Intl.DateTimeFormat("en-US", { timeZone: tz, hour: "2-digit", hourCycle: "h23" }).format(new Date()));
const tz = ["UTC", "Asia/Tokyo", "America/New_York"].find((z) => hour(z) >= 4 && hour(z) <= 21)!;
// Patterns that do not fire before 2028 (29 February), for the entries the test fires itself.
const never = (hh: number) => `0 ${hh} 29 2 *`;

async function schedulers(server: string) {
  const all = await serverQueue(server).getJobSchedulers();
  return all
    .filter((s) => (s.id ?? s.key).startsWith("schedule:"))
    .map((s) => ({ id: s.id ?? s.key, name: s.name, pattern: s.pattern, tz: s.tz }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

/** Adds the job a scheduler would add, now, and waits for a worker to finish it. */
async function fire(id: string, change: (data: Record<string, unknown>) => Record<string, unknown> = (d) => d): Promise<{ job: Job; logs: string[] }> {
  const queue = serverQueue("mail1");
  const scheduler = await queue.getJobScheduler(id);
  expect(scheduler?.template?.data, `scheduler ${id}`).toBeDefined();
  const added = await queue.add(scheduler!.name, change(scheduler!.template!.data as Record<string, unknown>));
  const deadline = Date.now() + 90_000;
  for (;;) {
    const job = (await queue.getJob(added.id!))!;
    if (job.finishedOn) return { job, logs: (await queue.getJobLogs(added.id!)).logs };
    if (Date.now() > deadline) throw new Error(`job ${added.id} did not finish`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A job's log once it has finished (a flow's parent logs after the session is marked done). */
async function logsOf(id: string): Promise<string[]> {
  const queue = serverQueue("mail1");
  const deadline = Date.now() + 90_000;
  while (!(await queue.getJob(id))?.finishedOn) {
    if (Date.now() > deadline) throw new Error(`job ${id} did not finish`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return (await queue.getJobLogs(id)).logs;
}

async function waitForSession(label: string) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const s = await prisma().backupSession.findFirstOrThrow({ where: { label } });
    if (!["queued", "running"].includes(s.status)) return s;
    if (Date.now() > deadline) throw new Error(`session ${label} still ${s.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("applying a schedule", () => {
  it("starts with no scheduled backups anywhere", async () => {
    const { servers } = await listSchedules();
    expect(servers.map((s) => [s.server, s.entries.length, s.updatedBy])).toEqual([
      ["mail1", 0, null],
      ["mail2", 0, null],
    ]);
    expect(await schedulers("mail1")).toEqual([]);
  });

  it("puts Zimbra's defaults on each server's queue, by its backup mode", async () => {
    const view = await applyDefaultSchedule({ server: "mail1", tz, by: "admin@test" });
    expect(view.entries.map((e) => e.text)).toEqual([`f "0 1 * * 6"`, `i "0 1 * * 0-5"`, `d 1m "0 0 * * *"`].map((t) => (tz === "UTC" ? t : `${t} ${tz}`)));
    expect(view.entries.every((e) => e.onQueue && e.nextRuns.length === 3)).toBe(true);
    expect(view.updatedBy).toBe("admin@test");
    expect(await schedulers("mail1")).toEqual([
      { id: "schedule:mail1:1", name: "schedule.backup", pattern: "0 1 * * 6", tz },
      { id: "schedule:mail1:2", name: "schedule.backup", pattern: "0 1 * * 0-5", tz },
      { id: "schedule:mail1:3", name: "schedule.retention", pattern: "0 0 * * *", tz },
    ]);

    await applyDefaultSchedule({ server: "mail2", tz, by: "admin@test" });
    expect((await schedulers("mail2")).map((s) => [s.name, s.pattern])).toEqual([
      ["schedule.backup", "0 1 * * *"],
      ["schedule.retention", "0 0 * * *"],
    ]);
    const template = await serverQueue("mail2").getJobScheduler("schedule:mail2:1");
    expect(template?.template?.data).toMatchObject({ entry: 1, type: "auto_grouped" });
  });

  it("replaces the schedulers with the new entries and removes the ones left over", async () => {
    const view = await replaceSchedule({ server: "mail1", by: "admin@test", entries: [{ type: "f", pattern: never(3) }, { type: "d", age: "1m", pattern: never(4), tz: "Europe/Berlin" }] });
    expect(view.entries.map((e) => [e.type, e.pattern, e.tz])).toEqual([
      ["full", never(3), "UTC"],
      ["retention", never(4), "Europe/Berlin"],
    ]);
    expect(await schedulers("mail1")).toEqual([
      { id: "schedule:mail1:1", name: "schedule.backup", pattern: never(3), tz: "UTC" },
      { id: "schedule:mail1:2", name: "schedule.retention", pattern: never(4), tz: "Europe/Berlin" },
    ]);
  });

  it("refuses a bad pattern, a bad zone or an entry the server cannot run, and changes nothing", async () => {
    const before = { stored: await prisma().backupSchedule.findUniqueOrThrow({ where: { server: "mail1" } }), queue: await schedulers("mail1") };
    await expect(replaceSchedule({ server: "mail1", by: "x", entries: [{ type: "f", pattern: "0 25 * * *" }] })).rejects.toThrow(
      'invalid cron pattern "0 25 * * *" for the full backup: Constraint error, got value 25 expected range 0-23',
    );
    await expect(replaceSchedule({ server: "mail1", by: "x", entries: [{ type: "i", pattern: "0 1 * * *", tz: "Moon/Base" }] })).rejects.toMatchObject({ code: "invalid_input" });
    await expect(replaceSchedule({ server: "mail1", by: "x", entries: [{ type: "a", pattern: "0 1 * * *" }] })).rejects.toThrow(/mail1 uses standard backups/);
    await expect(replaceSchedule({ server: "mail9", by: "x", entries: [] })).rejects.toMatchObject({ code: "server_not_found" });
    expect(await prisma().backupSchedule.findUniqueOrThrow({ where: { server: "mail1" } })).toEqual(before.stored);
    expect(await schedulers("mail1")).toEqual(before.queue);
  });

  it("is put back on the queue by a worker's start after Redis lost it", async () => {
    for (const s of await schedulers("mail1")) await serverQueue("mail1").removeJobScheduler(s.id);
    await serverQueue("mail1").upsertJobScheduler("schedule:mail1:7", { pattern: "0 5 * * *" }, { name: "schedule.backup", data: { entry: 7, pattern: "0 5 * * *", tz: "UTC", type: "full" } });
    expect((await getSchedule("mail1")).warnings.at(-1)).toMatch(/out of step/);

    fx.workers = await startWorkers({ servers: [{ name: "mail1", concurrency: 3 }] });
    expect((await schedulers("mail1")).map((s) => s.id)).toEqual(["schedule:mail1:1", "schedule:mail1:2"]);
    expect((await getSchedule("mail1")).entries.every((e) => e.onQueue)).toBe(true);
  });
});

describe("a scheduled job", () => {
  it("runs a full backup of every account as `schedule`, with its story in the job logs", async () => {
    const { job, logs } = await fire("schedule:mail1:1");
    expect(job.failedReason).toBeUndefined();
    const label = (job.returnvalue as { submitted: string }).submitted;
    expect(logs).toContain(`entry 1: f "${never(3)}"`);
    expect(logs.at(-1)).toMatch(new RegExp(`^submitted ${label} \\(standard\\) as job backup-\\d+$`));

    const session = await waitForSession(label);
    expect(session).toMatchObject({ status: "completed", type: "full", requestedBy: "schedule", requestedAccounts: [] });
    const start = await logsOf(`backup-${session.id}`);
    expect(start[0]).toMatch(new RegExp(`^${label}: sealed redo through \\d+ \\(\\d+ segment\\(s\\) moved\\); 3 accounts in \\d+ batches$`));
    const finish = await logsOf(`backup-${session.id}-finish`);
    expect(finish[0]).toMatch(new RegExp(`^${label} completed: 3 full snapshot\\(s\\), .* written, \\d+ new blob\\(s\\)$`));
    const batch = await logsOf(`backup-${session.id}-accounts-0`);
    expect(batch[0]).toMatch(/^sched\d@example\.com: full snapshot \(.+\), \d+ items, [\d.]+ [KM]iB, \d+ new blob\(s\)$/);
  });

  it("is skipped, and says why in its log, while another backup runs", async () => {
    // A session that holds the one-backup lock and stays queued (no job), so the clash is certain.
    const server = await prisma().server.findUniqueOrThrow({ where: { name: "mail1" } });
    const running = await createSession({ serverId: server.id, type: "incremental", mode: "standard", requestedAccounts: [], requestedBy: "test" });
    const { job, logs } = await fire("schedule:mail1:1");
    expect(job.failedReason).toBeUndefined();
    expect(job.returnvalue).toEqual({ skipped: `backup in progress: ${running.label}` });
    expect(logs.at(-1)).toBe(`skipped: backup in progress: ${running.label}`);
    await finishSession(running.id, "failed", { error: "test" });
  });

  it("applies retention from a d entry", async () => {
    const { job, logs } = await fire("schedule:mail1:2");
    expect(job.returnvalue).toMatchObject({ retention: { removed: [] } });
    expect(logs).toEqual(["entry 2: delete sessions older than 1m", expect.stringMatching(/^nothing to delete: every session is newer than/)]);
  });

  it("copies every session the copy target lacks from a c entry, then finds nothing left to copy", async () => {
    const view = await appendToSchedule({ server: "mail1", by: "admin@test", entries: [{ type: "c", to: "offsite", pattern: never(5) }] });
    expect(view.entries.at(-1)).toMatchObject({ n: 3, type: "copy", to: "offsite", code: "c" });
    const published = (await prisma().backupSession.findMany({ where: { status: "completed" }, orderBy: { label: "asc" } })).map((s) => s.label);
    expect(published.length).toBeGreaterThan(0);
    const first = await fire("schedule:mail1:3");
    expect(first.job.failedReason).toBeUndefined();
    const copied = (first.job.returnvalue as { copied: { label: string; status: string; verified: boolean }[] }).copied;
    expect(copied.map((r) => [r.label, r.status, r.verified])).toEqual(published.map((l) => [l, "copied", true]));
    expect(first.logs.at(-1)).toBe(`${published.length} session(s) copied, 0 already there, 0 failed`);
    const again = await fire("schedule:mail1:3");
    expect(again.logs.at(-1)).toBe(`0 session(s) copied, ${published.length} already there, 0 failed`);
    await expect(appendToSchedule({ server: "mail1", by: "x", entries: [{ type: "c", to: "tape", pattern: never(6) }] })).rejects.toThrow("mail1 has no copy target tape: its copy targets are offsite");
  });

  it("verifies the newest sessions from a v entry, keeps each result and queues a report", async () => {
    const view = await appendToSchedule({ server: "mail1", by: "admin@test", entries: [{ type: "v", scope: "1", pattern: never(7) }] });
    const n = view.entries.at(-1)!.n;
    expect(view.entries.at(-1)).toMatchObject({ type: "verify", scope: "1", code: "v" });
    const { job, logs } = await fire(`schedule:mail1:${n}`);
    expect(job.failedReason).toBeUndefined();
    const newest = await prisma().backupSession.findFirstOrThrow({ where: { status: "completed" }, orderBy: { createdAt: "desc" } });
    expect(job.returnvalue).toEqual({ verified: 1, damaged: [] });
    expect(logs.at(-1)).toBe(`${newest.label}: ok`);
    expect((await prisma().backupSession.findUniqueOrThrow({ where: { id: newest.id } })).verifyOk).toBe(true);
    expect(await prisma().reportOutbox.count({ where: { server: "mail1", kind: "verify", status: "ok" } })).toBe(1);
  });

  it("submits a restore drill from an r entry, which restores, compares and keeps its evidence", { timeout: 200_000 }, async () => {
    const view = await appendToSchedule({ server: "mail1", by: "admin@test", entries: [{ type: "r", scope: "2", pattern: never(8) }] });
    const n = view.entries.at(-1)!.n;
    expect(view.entries.at(-1)).toMatchObject({ type: "drill", scope: "2", code: "r", text: `r 2 "${never(8)}"` });
    const { job, logs } = await fire(`schedule:mail1:${n}`);
    expect(job.failedReason).toBeUndefined();
    const label = (job.returnvalue as { drill: string }).drill;
    expect(logs.at(-1)).toMatch(new RegExp(`^entry ${n}: restore drill of 2 account\\(s\\) submitted as ${label.replace(/\./g, "\\.")}`));
    const drill = await waitFor(async () => {
      const d = await prisma().restoreDrill.findUniqueOrThrow({ where: { label } });
      return !["queued", "running"].includes(d.status) && d;
    }, label, 180_000);
    expect(drill).toMatchObject({ status: "passed", requestedBy: "schedule", request: { accounts: 2, at: "random" } });
    expect(drill.evidence).toHaveLength(2);
  });

  it("runs nothing when its entry is no longer the stored one, and puts the queue back in step", async () => {
    const { job, logs } = await fire("schedule:mail1:1", (data) => ({ ...data, pattern: "0 2 * * *" }));
    expect(job.returnvalue).toEqual({ skipped: expect.stringMatching(/^entry 1 \(f "0 2 \* \* \*"\) is no longer in mail1's stored schedule/) });
    expect(logs).toHaveLength(1);
    expect(await prisma().backupSession.count({ where: { status: { in: ["queued", "running"] } } })).toBe(0);
  });
});

describe("clearing a schedule", () => {
  it("leaves the server with no schedulers and no stored row", async () => {
    const view = await clearSchedule({ server: "mail1", by: "admin@test" });
    expect(view.entries).toEqual([]);
    expect(await schedulers("mail1")).toEqual([]);
    expect(await prisma().backupSchedule.count({ where: { server: "mail1" } })).toBe(0);
    // The redo archive keeps its own scheduler, untouched.
    expect(view.redoArchive.everyMs).toBeGreaterThan(0);
  });
});
