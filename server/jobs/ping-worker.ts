import type { PingAnswer } from "./ping.ts";
import { runJob } from "./run-job.ts";

/** Sends `server.ping` through a server's queue and waits for a worker's answer. */
export async function pingWorker(server: string, timeoutMs = 10_000): Promise<PingAnswer & { jobId: string; roundTripMs: number }> {
  const { jobId, result, ms } = await runJob(server, "server.ping", { sentAt: new Date().toISOString() }, timeoutMs);
  return { ...(result as PingAnswer), jobId, roundTripMs: ms };
}
