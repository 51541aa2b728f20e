/**
 * GET /api/health while Redis goes away and comes back: a private redis-server that this test
 * starts, kills and restarts on the same port, with a real worker connected to it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GET as health } from "./route.ts";
import { startWorkers, type WorkerSet } from "@/workers/start-workers.ts";
import { databaseName } from "@/server/config.ts";
import { seedDemo } from "@/server/demo/seed-demo.ts";
import { createTestEnv, type TestEnv } from "@/server/testing/test-env.ts";

let env: TestEnv;
let redis: ChildProcess | undefined;
let workers: WorkerSet | undefined;
let port = 0;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

async function startRedis(): Promise<void> {
  redis = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  for (let i = 0; i < 50; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => (socket.end(), resolve(true)));
      socket.on("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("redis-server did not start");
}

async function stopRedis(): Promise<void> {
  const exited = new Promise((r) => redis!.once("exit", r));
  redis!.kill("SIGKILL");
  await exited;
  redis = undefined;
}

async function status(): Promise<{ code: number; ms: number; body: { status: string; redis: { ok: boolean } } }> {
  const started = performance.now();
  const response = await health();
  return { code: response.status, ms: performance.now() - started, body: await response.json() };
}

async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  port = await freePort();
  await startRedis();
  process.env.REDIS_URL = `redis://127.0.0.1:${port}`;
  env = await createTestEnv();
  await seedDemo({ accounts: 5, dataDir: env.dataDir, consoleDatabase: databaseName(env.databaseUrl) });
  workers = await startWorkers({ servers: [{ name: "mail1", concurrency: 1 }, { name: "mail2", concurrency: 1 }] });
});

afterAll(async () => {
  await workers?.close();
  await env?.cleanup();
  if (redis) await stopRedis();
});

describe("GET /api/health", () => {
  it("answers 200 while everything is up", async () => {
    await eventually(async () => (await status()).code === 200, 5_000);
  });

  it("answers 503 within a few seconds of Redis stopping, and 200 again once it is back", async () => {
    await stopRedis();
    const down = await status();
    expect(down.code).toBe(503);
    expect(down.body.redis.ok).toBe(false);
    expect(down.ms).toBeLessThan(3_000);

    await startRedis();
    // The status client and the worker reconnect by themselves; the worker's next beat makes it 200.
    await eventually(async () => (await status()).code === 200, 15_000);
  });
});
