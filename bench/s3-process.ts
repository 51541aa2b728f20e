/**
 * s3rver (server/testing/s3-server.ts) in a process of its own, for the benches. S3 is another
 * machine's work: run inside the bench, the server's HTTP handling and file writes took the main
 * thread that the workers run on (a full into it kept that thread busy 10.3 s of 10.7 s), so the
 * S3 figures measured s3rver as much as the backup.
 *
 * Run as a script (`tsx bench/s3-process.ts <bucket>...`) it serves the buckets, prints its
 * endpoint, and stops when its stdin closes: when the bench stops it, or the bench dies.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { s3TargetUrl, startS3Server, useTestCredentials } from "../server/testing/s3-server.ts";

export interface S3Process {
  /** The target URL of `bucket` under `prefix`. */
  url(bucket: string, prefix?: string): string;
  stop(): Promise<void>;
}

export async function startS3Process(buckets: string[]): Promise<S3Process> {
  const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), ...buckets], { stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const lines = createInterface({ input: child.stdout });
  const endpoint = await Promise.race([
    new Promise<string>((resolve) => lines.once("line", resolve)),
    exited.then((code) => Promise.reject(new Error(`s3rver's process ended (exit ${code}) before it served`))),
  ]);
  lines.close();
  child.stdout.resume(); // anything it prints later is not read, and must not fill the pipe
  useTestCredentials();
  return {
    url: (bucket, prefix) => s3TargetUrl(endpoint, bucket, prefix),
    stop: async () => {
      child.stdin.end();
      await exited;
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const s3 = await startS3Server({ buckets: process.argv.slice(2) });
  process.stdin.on("end", () => void s3.stop().then(() => process.exit(0)));
  process.stdin.resume();
  console.log(s3.endpoint);
}
