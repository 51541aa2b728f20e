/**
 * What the console depends on, checked at once with a short timeout each: the console database,
 * Redis, and for each mailbox server at least one live worker. Anything down makes the whole
 * report "down", which GET /api/health turns into a 503.
 */
import { config } from "../config.ts";
import { consolePool } from "../db/console-db.ts";
import { liveWorkers } from "../jobs/heartbeat.ts";
import { readyStatusClient, statusClient } from "../jobs/redis.ts";

export interface Check {
  ok: boolean;
  detail: string;
  latencyMs?: number;
}

export interface HealthReport {
  status: "ok" | "down";
  checkedAt: string;
  postgres: Check;
  redis: Check;
  workers: Record<string, Check & { count: number }>;
}

const TIMEOUT_MS = 2_000;

async function timed<T>(what: string, work: () => Promise<T>): Promise<{ value?: T; check: Check }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const value = await Promise.race([
      work(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
      }),
    ]);
    return { value, check: { ok: true, detail: `${what} answers`, latencyMs: Math.round(performance.now() - started) } };
  } catch (error) {
    return { check: { ok: false, detail: `${what}: ${(error as Error).message}` } };
  } finally {
    clearTimeout(timer);
  }
}

export async function checkHealth(): Promise<HealthReport> {
  const [pg, redis] = await Promise.all([
    timed("postgres", async () => (await consolePool().query<{ name: string }>("SELECT name FROM server ORDER BY name")).rows),
    timed("redis", async () => (await readyStatusClient()).ping()),
  ]);
  const servers = (pg.value ?? []).map((r) => r.name);
  const workers: HealthReport["workers"] = {};
  if (redis.check.ok && servers.length > 0) {
    const live = await timed("redis", () => liveWorkers(statusClient(), config().MAILVAULT_QUEUE_PREFIX, servers));
    for (const server of servers) {
      const beats = live.value?.get(server) ?? [];
      workers[server] = live.check.ok
        ? { ok: beats.length > 0, count: beats.length, detail: beats.length > 0 ? `${beats.length} worker(s) alive` : "no worker has reported in the last 15 s" }
        : { ok: false, count: 0, detail: live.check.detail };
    }
  } else {
    for (const server of servers) workers[server] = { ok: false, count: 0, detail: "unknown: redis is down" };
  }
  const ok = pg.check.ok && redis.check.ok && Object.values(workers).every((w) => w.ok);
  return { status: ok ? "ok" : "down", checkedAt: new Date().toISOString(), postgres: pg.check, redis: redis.check, workers };
}
