/**
 * s3rver (server/testing/s3-server.ts) in a process of its own, for the benches. S3 is another
 * machine's work: run inside the bench, the server's HTTP handling and file writes took the main
 * thread that the workers run on (a full into it kept that thread busy 10.3 s of 10.7 s), so the
 * S3 figures measured s3rver as much as the backup.
 *
 * Run as a script (`tsx bench/s3-process.ts --latency=<ms> <bucket>...`) it serves the buckets, prints where
 * (one JSON line), and stops, removing its folder, when its stdin closes: when the bench stops it,
 * or the bench dies. It ignores SIGINT and SIGTERM, so a Ctrl-C to the whole process group leaves
 * the stopping to the bench's own cleanup rather than killing it before its folder is removed.
 */
import { spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { s3TargetUrl, startS3Server, useTestCredentials } from "../server/testing/s3-server.ts";

export interface S3Process {
  /** The target URL of `bucket` under `prefix`. */
  url(bucket: string, prefix?: string): string;
  stop(): Promise<void>;
}

/** How long the server may take to start, and to stop before it is killed. */
const START_MS = 60_000;
const STOP_MS = 10_000;

/** `latencyMs`: each request is held that long first, as a store across a network answers (s3-server.ts). */
export async function startS3Process(buckets: string[], options: { latencyMs?: number } = {}): Promise<S3Process> {
  // tsx resolved from here, not from the working directory the bench was started in.
  const args = [`--latency=${options.latencyMs ?? 0}`, ...buckets];
  const child = spawn(process.execPath, ["--import", import.meta.resolve("tsx"), fileURLToPath(import.meta.url), ...args], { stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const ended = new Promise<never>((_, reject) => {
    child.once("error", (error) => reject(new Error(`s3rver's process did not start: ${error.message}`)));
    child.once("exit", (code) => reject(new Error(`s3rver's process ended (exit ${code}) before it served`)));
  });
  ended.catch(() => {}); // raced below; after the start it only says the child ended
  const lines = createInterface({ input: child.stdout });
  let timer: NodeJS.Timeout | undefined;
  const first = await Promise.race([
    new Promise<string>((resolve) => lines.once("line", resolve)),
    ended,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`s3rver's process did not serve within ${START_MS / 1000} s`)), START_MS))),
  ]).catch((error: unknown) => {
    child.kill("SIGKILL");
    throw error;
  });
  clearTimeout(timer);
  lines.close();
  child.stdout.resume(); // anything it prints later is not read, and must not fill the pipe
  const { endpoint, directory } = JSON.parse(first) as { endpoint: string; directory: string };
  useTestCredentials();
  return {
    url: (bucket, prefix) => s3TargetUrl(endpoint, bucket, prefix),
    stop: async () => {
      child.stdin.end();
      const stopped = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(resolve, STOP_MS, false).unref())]);
      if (stopped && child.exitCode === 0) return;
      // It hung or failed while stopping: end it, and remove its folder from here.
      child.kill("SIGKILL");
      await exited;
      await rm(directory, { recursive: true, force: true });
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => {});
  const [latency, ...buckets] = process.argv.slice(2);
  const s3 = await startS3Server({ buckets, latencyMs: Number(latency!.slice("--latency=".length)) });
  process.stdin.on("end", () => {
    s3.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`s3rver did not stop cleanly: ${(error as Error).message}`);
        process.exit(1);
      },
    );
  });
  process.stdin.resume();
  console.log(JSON.stringify({ endpoint: s3.endpoint, directory: s3.directory }));
}
