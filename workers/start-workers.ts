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
import { jobDefinitions, retryOptions } from "../server/jobs/definitions.ts";
import { HEARTBEAT_INTERVAL_MS, publishHeartbeat, removeHeartbeat } from "../server/jobs/heartbeat.ts";
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
  /** Check the redo log for archiving this often (a BullMQ job scheduler). */
  archiveEveryMs?: number;
}

export interface StartWorkersOptions {
  servers: WorkerServer[];
  onError?: (server: string, error: Error) => void;
}

export async function startWorkers({ servers, onError }: StartWorkersOptions): Promise<WorkerSet> {
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
      const listener = await startLmtpListener({
        store: await openMailstore(server.name),
        port: server.lmtpPort,
        onError: (error) => onError?.(server.name, error),
      });
      lmtp.push(listener);
      lmtpPorts[server.name] = listener.port;
    }
  }

  const redis = new Redis({ ...redisOptions(), maxRetriesPerRequest: 1, retryStrategy: () => 1_000 });
  redis.on("error", () => {}); // a missed beat is what the health check reports
  const startedAt = new Date().toISOString();
  const beat = () =>
    publishHeartbeat(redis, prefix, names, { id, host: os.hostname(), pid: process.pid, startedAt, at: new Date().toISOString() }).catch(
      () => {},
    );
  await beat();
  const timer = setInterval(beat, HEARTBEAT_INTERVAL_MS);

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
