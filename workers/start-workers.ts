/**
 * Starts one BullMQ worker per mailbox server in this process, with heartbeats, and returns a
 * handle that closes them. On start it puts each server's stored backup schedule back on its
 * queue (server/schedule). Used by workers/main.ts and by integration tests.
 */
import os from "node:os";
import { randomUUID } from "node:crypto";
import { FlowProducer, Worker, type Job } from "bullmq";
import { KEPT_LOG_LINES, recordJobRun } from "../server/jobs/job-history.ts";
import { Redis } from "ioredis";
import { sweepStale, type SweepResult } from "../server/backup/sweep-stale.ts";
import { dispatchReports } from "../server/reports/send-report.ts";
import { jobDefinitions, retryOptions } from "../server/jobs/definitions.ts";
import { isObjectStore, measureFreeSpace } from "../server/backup/free-space.ts";
import { getServer } from "../server/directory/list-servers.ts";
import { HEARTBEAT_INTERVAL_MS, publishHeartbeat, removeHeartbeat, type TargetSpace } from "../server/jobs/heartbeat.ts";
import { hasWorkLeft } from "../server/jobs/job-state.ts";
import { queueName, queuePrefix, serverQueue } from "../server/jobs/queues.ts";
import { openMailstore } from "../server/mailstore/mailstore.ts";
import { setUpServerStore } from "../server/mailstore/setup-mailstore.ts";
import { startLmtpListener, type LmtpListener } from "./lmtp-server.ts";
import { redisOptions } from "../server/jobs/redis.ts";
import { restoreSchedulers } from "../server/schedule/manage-schedule.ts";
import { processorFor } from "./processors.ts";

export interface WorkerSet {
  id: string;
  servers: string[];
  /** LMTP port per server, for the servers that have a listener. */
  lmtpPorts: Record<string, number>;
  close(): Promise<void>;
}

export interface WorkerServer {
  name: string;
  concurrency: number;
  /** Start this server's LMTP listener on this port (0: any free port). */
  lmtpPort?: number;
  /** The address the LMTP listener binds (default 127.0.0.1). */
  lmtpHost?: string;
  /** Check the redo log for archiving this often (a BullMQ job scheduler). */
  archiveEveryMs?: number;
}

export interface StartWorkersOptions {
  servers: WorkerServer[];
  onError?: (server: string, error: Error) => void;
  /** How often the heartbeat loop sweeps dead sessions and restore runs (default 20 s). */
  sweepEveryMs?: number;
  /** Told what a sweep marked interrupted, when it marked anything. */
  onSwept?: (result: SweepResult) => void;
}

export const SWEEP_INTERVAL_MS = 20_000;

/** The LMTP listener cannot take its port: the worker stops, and says which port and which setting. */
export class LmtpPortError extends Error {}

export async function startWorkers({ servers, onError, sweepEveryMs = SWEEP_INTERVAL_MS, onSwept }: StartWorkersOptions): Promise<WorkerSet> {
  const id = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const prefix = queuePrefix();
  const names = servers.map((s) => s.name);
  const flows = new FlowProducer({ connection: { ...redisOptions(), maxRetriesPerRequest: null }, prefix });
  flows.on("error", () => {});
  const workers = servers.map((server) => {
    const worker = new Worker(queueName(server.name), processorFor({ server: server.name, workerId: id, concurrency: server.concurrency, flows }), {
      connection: { ...redisOptions(), maxRetriesPerRequest: null },
      prefix,
      concurrency: server.concurrency,
      // Each job records the worker that took it (job.processedBy): the Jobs page and tests see which host ran it.
      name: id,
    });
    worker.on("error", (error) => onError?.(server.name, error));
    // The outcome and log lines go to the console database, so the job page outlives Redis.
    const logsOf = (job: Job) =>
      serverQueue(server.name)
        .getJobLogs(job.id!, 0, KEPT_LOG_LINES - 1)
        .then((l) => l.logs, () => []);
    worker.on("completed", (job, result) => void logsOf(job).then((logs) => recordJobRun(server.name, job, "completed", result, undefined, logs)).catch(() => {}));
    // 'failed' fires for every failed attempt; only the last one (finishedOn set) is the outcome.
    worker.on("failed", (job, error) => void (job?.finishedOn && logsOf(job).then((logs) => recordJobRun(server.name, job, "failed", null, error.message, logs)).catch(() => {})));
    return worker;
  });

  // The mailstore each server's jobs and listener use exists before the first job arrives.
  const lmtp: LmtpListener[] = [];
  const lmtpPorts: Record<string, number> = {};
  for (const server of servers) {
    await setUpServerStore(server.name);
    // The console database holds the backup schedule; a restarted Redis gets it back from there.
    await restoreSchedulers(server.name).catch((error: Error) => onError?.(server.name, new Error(`could not restore the backup schedule: ${error.message}`)));
    if (server.archiveEveryMs) {
      await serverQueue(server.name).upsertJobScheduler(
        `redo-archive:${server.name}`,
        { every: server.archiveEveryMs },
        { name: "redo.archive", data: { force: false }, opts: { ...retryOptions(jobDefinitions["redo.archive"]), removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } } },
      );
    }
    if (server.lmtpPort !== undefined) {
      const port = server.lmtpPort;
      const listener = await startLmtpListener({
        store: await openMailstore(server.name),
        port,
        host: server.lmtpHost,
        onError: (error) => onError?.(server.name, error),
      }).catch((error: NodeJS.ErrnoException) => {
        const at = `${server.name}'s LMTP port ${port}${server.lmtpHost ? ` on ${server.lmtpHost}` : ""}`;
        if (error.code === "EADDRNOTAVAIL" || error.code === "ENOTFOUND") throw new LmtpPortError(`${at}: this host has no such address; set the server's lmtpHost to one of its own addresses (or 0.0.0.0)`);
        if (error.code !== "EADDRINUSE" && error.code !== "EACCES") throw error;
        throw new LmtpPortError(`${at} is ${error.code === "EACCES" ? "not open to this user" : "already in use"}: stop what holds it, or give the server another lmtpPort (the demo numbers them from MAILVAULT_LMTP_BASE_PORT)`);
      });
      lmtp.push(listener);
      lmtpPorts[server.name] = listener.port;
    }
  }

  const redis = new Redis({ ...redisOptions(), maxRetriesPerRequest: 1, retryStrategy: () => 1_000 });
  redis.on("error", () => {}); // a missed beat is what the health check reports
  const startedAt = new Date().toISOString();
  const beat = async () => {
    const targets = await measureTargets(names).catch(() => undefined);
    await publishHeartbeat(redis, prefix, names, { id, host: os.hostname(), pid: process.pid, startedAt, at: new Date().toISOString(), targets }).catch(() => {});
  };
  // The heartbeat loop also sweeps, every sweepEveryMs, the sessions and restore runs of these
  // servers whose jobs died (server/backup/sweep-stale.ts), then queues the report mails of what
  // ended (server/reports). One sweep at a time; a sweep that cannot reach the database or Redis
  // is simply tried again next time.
  let lastSweep = 0;
  let sweeping = false;
  const sweep = () => {
    if (sweeping || Date.now() - lastSweep < sweepEveryMs) return;
    sweeping = true;
    lastSweep = Date.now();
    void sweepStale({ servers: names, hasWorkLeft })
      .then((result) => {
        if (result.sessions.length || result.runs.length) onSwept?.(result);
      })
      // Report mails of whatever ended since (a swept session's included): queued as jobs.
      .then(() => dispatchReports(names))
      .catch((error: Error) => onError?.(names.join(","), new Error(`sweep of stale sessions failed: ${error.message}`)))
      .finally(() => (sweeping = false));
  };
  await beat();
  const timer = setInterval(() => {
    void beat();
    sweep();
  }, Math.min(HEARTBEAT_INTERVAL_MS, sweepEveryMs));

  return {
    id,
    servers: names,
    lmtpPorts,
    async close() {
      clearInterval(timer);
      await Promise.all(lmtp.map((l) => l.close()));
      await Promise.all(workers.map((w) => w.close()));
      await flows.close();
      await removeHeartbeat(redis, prefix, names, id).catch(() => {});
      redis.disconnect();
    },
  };
}

/** The free space of each server's backup target, as this worker sees it, for its heartbeat. */
async function measureTargets(servers: string[]): Promise<Record<string, TargetSpace>> {
  const targets: Record<string, TargetSpace> = {};
  for (const name of servers) {
    const server = await getServer(name);
    if (isObjectStore(server.backupTarget)) continue; // no fixed free space to report
    const at = new Date().toISOString();
    targets[name] = await measureFreeSpace(server.backupTarget).then(
      (space) => ({ path: server.backupTarget, at, ...space }),
      (error: Error) => ({ path: server.backupTarget, at, error: error.message }),
    );
  }
  return targets;
}
