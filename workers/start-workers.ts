/**
 * Starts one BullMQ worker per mailbox server in this process, with heartbeats, and returns a
 * handle that closes them. Used by workers/main.ts and by integration tests.
 */
import os from "node:os";
import { randomUUID } from "node:crypto";
import { Worker } from "bullmq";
import { Redis } from "ioredis";
import { HEARTBEAT_INTERVAL_MS, publishHeartbeat, removeHeartbeat } from "../server/jobs/heartbeat.ts";
import { queueName, queuePrefix } from "../server/jobs/queues.ts";
import { redisOptions } from "../server/jobs/redis.ts";
import { processorFor } from "./processors.ts";

export interface WorkerSet {
  id: string;
  servers: string[];
  close(): Promise<void>;
}

export interface StartWorkersOptions {
  servers: { name: string; concurrency: number }[];
  onError?: (server: string, error: Error) => void;
}

export async function startWorkers({ servers, onError }: StartWorkersOptions): Promise<WorkerSet> {
  const id = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const prefix = queuePrefix();
  const names = servers.map((s) => s.name);
  const workers = servers.map((server) => {
    const worker = new Worker(queueName(server.name), processorFor({ server: server.name, workerId: id }), {
      connection: { ...redisOptions(), maxRetriesPerRequest: null },
      prefix,
      concurrency: server.concurrency,
    });
    worker.on("error", (error) => onError?.(server.name, error));
    return worker;
  });

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
    async close() {
      clearInterval(timer);
      await Promise.all(workers.map((w) => w.close()));
      await removeHeartbeat(redis, prefix, names, id).catch(() => {});
      redis.disconnect();
    },
  };
}
