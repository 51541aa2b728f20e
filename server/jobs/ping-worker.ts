/**
 * Sends `server.ping` through a server's queue and waits for a worker's answer: the console's
 * "Ping worker" button uses it to prove the round trip on a live system.
 */
import { ServiceUnavailableError } from "../errors.ts";
import type { PingAnswer } from "./ping.ts";
import { enqueueJob, serverQueue } from "./queues.ts";

export async function pingWorker(server: string, timeoutMs = 10_000): Promise<PingAnswer & { jobId: string; roundTripMs: number }> {
  const started = performance.now();
  const job = await enqueueJob(server, "server.ping", { sentAt: new Date().toISOString() }).catch((error: Error) => {
    throw new ServiceUnavailableError("redis", error.message);
  });
  while (performance.now() - started < timeoutMs) {
    const current = await serverQueue(server).getJob(job.id!);
    if (current?.finishedOn) {
      if (current.failedReason) throw new ServiceUnavailableError("worker", current.failedReason);
      return { ...(current.returnvalue as PingAnswer), jobId: job.id!, roundTripMs: Math.round(performance.now() - started) };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await serverQueue(server).remove(job.id!).catch(() => {});
  throw new ServiceUnavailableError("worker", `no worker for ${server} answered within ${timeoutMs / 1000} s; is \`npm run worker\` running?`);
}
