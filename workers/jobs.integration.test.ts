/**
 * The jobs plumbing against a real Redis: a `server.ping` goes through a server's queue to a
 * real worker and back; heartbeats make the health report; bad payloads never reach a worker.
 */
import { spawn } from "node:child_process";
import type { EventEmitter } from "node:events";
import { createServer } from "node:net";
import { QueueEvents } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "../server/db/console-db.ts";
import { databaseName } from "../server/config.ts";
import { seedDemo } from "../server/demo/seed-demo.ts";
import { InvalidInputError } from "../server/errors.ts";
import { checkHealth } from "../server/health/check-health.ts";
import { pingWorker } from "../server/jobs/ping-worker.ts";
import { enqueueJob, queuePrefix, serverQueue, serverQueueEvents } from "../server/jobs/queues.ts";
import { redisOptions } from "../server/jobs/redis.ts";
import { createTestEnv, type TestEnv } from "../server/testing/test-env.ts";
import { waitFor } from "../server/testing/wait-for-runs.ts";
import { startWorkers, type WorkerSet } from "./start-workers.ts";

let env: TestEnv;
let workers: WorkerSet | undefined;

beforeAll(async () => {
  env = await createTestEnv();
  await seedDemo({ accounts: 10, dataDir: env.dataDir, consoleDatabase: databaseName(env.databaseUrl) });
});

afterAll(async () => {
  await workers?.close();
  await env?.cleanup();
});

describe("server.ping", () => {
  it("is refused with a clear error when its payload is invalid, before it is queued", async () => {
    await expect(enqueueJob("mail1", "server.ping", { sentAt: "yesterday" })).rejects.toBeInstanceOf(InvalidInputError);
    expect(await serverQueue("mail1").count()).toBe(0);
  });

  it("times out with a message naming the missing worker when none runs", async () => {
    await expect(pingWorker("mail1", 500)).rejects.toThrow(/no worker for mail1 answered/);
  });

  it("makes the round trip through the server's own queue to a real worker", async () => {
    workers = await startWorkers({ servers: [{ name: "mail1", concurrency: 2 }, { name: "mail2", concurrency: 2 }] });
    const answer = await pingWorker("mail2");
    expect(answer).toMatchObject({ server: "mail2", worker: workers.id });
    expect(Date.parse(answer.answeredAt)).toBeGreaterThanOrEqual(Date.parse(answer.sentAt));
    const job = await serverQueue("mail2").getJob(answer.jobId);
    expect(job?.queueName).toBe("mailvault.mail2");
    expect(await job?.getState()).toBe("completed");
    // The wait leaves nothing listening on the console's shared event reader.
    const events = serverQueueEvents("mail2") as unknown as EventEmitter;
    expect([events.listenerCount(`completed:${answer.jobId}`), events.listenerCount(`failed:${answer.jobId}`)]).toEqual([0, 0]);
  });

  it("still gets the answer when the queue's event stream misses the job's end", async () => {
    // A reader of another queue's events stands in for one that began reading after the job
    // ended: without the events, the wait reads the job's state itself (run-job.ts).
    // The queue is paused until the job has waited in it a while, so the job ends after the
    // wait's first look at its state.
    const holder = globalThis as unknown as { __mailvaultQueueEvents?: Map<string, QueueEvents> };
    holder.__mailvaultQueueEvents ??= new Map();
    const real = holder.__mailvaultQueueEvents.get("mail1");
    const deaf = new QueueEvents("mailvault.nowhere", { connection: { ...redisOptions(), maxRetriesPerRequest: null }, prefix: queuePrefix() });
    await deaf.waitUntilReady();
    holder.__mailvaultQueueEvents.set("mail1", deaf);
    const queue = serverQueue("mail1");
    await queue.pause();
    try {
      const answering = pingWorker("mail1", 30_000);
      const queued = async () => (await queue.count()) > 0;
      await waitFor(queued, "the ping to be queued");
      await waitFor(queued, "the ping to have waited one more look");
      await queue.resume();
      const answer = await answering;
      expect(answer).toMatchObject({ server: "mail1", worker: workers!.id });
      // The wait that never heard its event leaves nothing listening either.
      expect([deaf.listenerCount(`completed:${answer.jobId}`), deaf.listenerCount(`failed:${answer.jobId}`)]).toEqual([0, 0]);
    } finally {
      await queue.resume();
      if (real) holder.__mailvaultQueueEvents.set("mail1", real);
      else holder.__mailvaultQueueEvents.delete("mail1");
      await deaf.close();
    }
  });
});

describe("health", () => {
  it("reports each server's worker, and down once the workers stop", async () => {
    const up = await checkHealth();
    expect(up.status).toBe("ok");
    expect(up.workers).toMatchObject({ mail1: { ok: true, count: 1 }, mail2: { ok: true, count: 1 } });

    await workers!.close();
    workers = undefined;
    const down = await checkHealth();
    expect(down.status).toBe("down");
    expect(down.workers.mail1).toMatchObject({ ok: false, count: 0 });
    expect(down.postgres.ok && down.redis.ok).toBe(true);
  });
});

describe("the worker process", () => {
  it("stops with one line naming the port and the setting when a server's LMTP port is taken", async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const port = (holder.address() as { port: number }).port;
    try {
      const server = await prisma().server.findUniqueOrThrow({ where: { name: "mail2" } });
      await prisma().server.update({ where: { name: "mail2" }, data: { settings: { ...(server.settings as object), lmtpPort: port } } });
      const child = spawn(process.execPath, ["--import", "tsx", "workers/main.ts", "--server", "mail2"], { env: { ...process.env, LOG_LEVEL: "info" } });
      let output = "";
      child.stdout.on("data", (chunk) => (output += chunk));
      child.stderr.on("data", (chunk) => (output += chunk));
      const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
      expect(code).toBe(2);
      const errors = output.split("\n").filter((line) => line.includes('"level":50'));
      expect(errors).toHaveLength(1);
      expect(JSON.parse(errors[0]!).msg).toBe(`mail2's LMTP port ${port} on 127.0.0.1 is already in use: stop what holds it, or give the server another lmtpPort (the demo numbers them from MAILVAULT_LMTP_BASE_PORT)`);
    } finally {
      holder.close();
    }
  }, 120_000);
});
