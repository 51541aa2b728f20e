/**
 * The job page's data with real workers: a backup's start job with its finish job and per-batch
 * children, log lines and session progress; a restore's jobs with its run; the history answering
 * once Redis has dropped the jobs; 404 for an unknown id; the jobs list by server and kind.
 */
import { describe, expect, it } from "vitest";
import { startWorkers } from "../../workers/start-workers.ts";
import { prisma } from "../db/console-db.ts";
import { useMailServer } from "../testing/mail-server-fixture.ts";
import { backupsSettled, runBackup, runRestore, waitFor } from "../testing/wait-for-runs.ts";
import { getJob } from "./get-job.ts";
import { listServerJobs } from "./list-jobs.ts";
import { queueName, serverQueue } from "./queues.ts";

useMailServer({ accounts: { prefix: "job", count: 4 }, traffic: { ops: 60, seed: 3, concurrency: 1 }, workers: startWorkers });

describe("job detail", () => {
  it("shows a backup's flow, a restore's flow, and the history once Redis has dropped them", async () => {
    const backup = await runBackup("mail1", "full");
    const id = `backup-${backup.sessionId}`;
    const detail = await getJob(id, "mail1");
    expect(detail.job).toMatchObject({ id, server: "mail1", name: "backup.start", state: "completed", source: "redis", role: "start" });
    expect(detail.job.durationMs).toBeGreaterThanOrEqual(0);
    expect(detail.backupSession).toMatchObject({ label: backup.label, status: "completed", accountsDone: 4, accountsTotal: 4 });
    expect(detail.restoreRun).toBeNull();
    const children = detail.related.filter((j) => j.role === "child");
    expect(children.length).toBe(detail.childrenTotal);
    expect(children.length).toBeGreaterThan(0);
    expect(children.every((c) => c.name === "backup.accounts" && c.state === "completed")).toBe(true);
    expect(detail.related.map((j) => j.role).slice(0, 2)).toEqual(["start", "finish"]);
    expect(detail.related.some((j) => j.logs.length > 0)).toBe(true);

    // A child's page shows the same run; without the server named, every queue is searched.
    const child = await getJob(children[0]!.id);
    expect(child.job).toMatchObject({ role: "child", index: 0 });
    expect(child.related.map((j) => j.id)).toEqual(detail.related.map((j) => j.id));

    const restore = await runRestore({ server: "mail1", accounts: ["job1@example.com"], copy: true, prefix: "r_" });
    // The run's row says completed a moment before its finish job returns (it still mails and logs).
    const restoreJob = await waitFor(async () => {
      const found = await getJob(restore.jobId, "mail1");
      return found.related.every((j) => j.state === "completed") && found;
    }, "the restore's jobs to end");
    expect(restoreJob.restoreRun).toMatchObject({ label: restore.label, status: "completed", accountsDone: 1, accountsTotal: 1 });
    expect(restoreJob.related.map((j) => [j.name, j.state])).toEqual([
      ["restore.start", "completed"],
      ["restore.finish", "completed"],
      ["restore.account", "completed"],
    ]);
    await backupsSettled();

    // Redis forgets the backup's jobs; the page answers from the job history.
    await waitFor(async () => (await prisma().jobRun.count({ where: { id: { startsWith: `${queueName("mail1")}:${id}` } } })) === detail.related.length, "job history");
    for (const j of detail.related) await serverQueue("mail1").remove(j.id);
    const remembered = await getJob(id, "mail1");
    expect(remembered.job).toMatchObject({ id, name: "backup.start", state: "completed", source: "history" });
    expect(remembered.related.map((j) => j.id)).toEqual(detail.related.map((j) => j.id));
    expect(remembered.backupSession?.label).toBe(backup.label);
    // The log lines were kept with the outcome.
    expect(remembered.job.logs).toEqual(detail.job.logs);
    expect(remembered.job.logs[0]).toMatch(/sealed redo through/);
  });

  it("answers job_not_found for an unknown id and lists jobs by server and kind", async () => {
    await expect(getJob("backup-999999", "mail1")).rejects.toMatchObject({ code: "job_not_found" });
    await expect(getJob("no-such-job")).rejects.toMatchObject({ code: "job_not_found" });
    await expect(getJob("backup-1", "nosuch")).rejects.toMatchObject({ code: "server_not_found" });
    const backups = await listServerJobs({ server: "mail1", name: "backup" });
    expect(backups.length).toBeGreaterThan(0);
    expect(backups.every((j) => j.name.startsWith("backup.") && j.server === "mail1")).toBe(true);
    expect((await listServerJobs({ name: "restore.account" })).every((j) => j.name === "restore.account")).toBe(true);
    await expect(listServerJobs({ server: "nosuch" })).rejects.toMatchObject({ code: "server_not_found" });
  });
});
