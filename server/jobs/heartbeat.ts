/**
 * Worker heartbeats. Each worker process writes, every few seconds, its entry into a Redis hash
 * per server; an entry older than HEARTBEAT_STALE_MS means that worker is gone. The console's
 * health check reads them. Redis is the right home: a heartbeat is only worth something while
 * the queue it serves is reachable.
 */
import type { Redis } from "ioredis";

export const HEARTBEAT_INTERVAL_MS = 5_000;
export const HEARTBEAT_STALE_MS = 15_000;

/** A backup target's free space as a worker measured it (workers, not the console, reach targets). */
export type TargetSpace = { path: string; at: string } & ({ freeBytes: number; totalBytes: number; freePercent: number } | { error: string });

export interface WorkerBeat {
  id: string;
  host: string;
  pid: number;
  startedAt: string;
  at: string;
  /** Per server this worker serves: the free space of its backup target. */
  targets?: Record<string, TargetSpace>;
}

function key(prefix: string, server: string): string {
  return `${prefix}:workers:${server}`;
}

export async function publishHeartbeat(redis: Redis, prefix: string, servers: string[], beat: WorkerBeat): Promise<void> {
  const multi = redis.multi();
  for (const server of servers) {
    multi.hset(key(prefix, server), beat.id, JSON.stringify(beat));
    multi.pexpire(key(prefix, server), HEARTBEAT_STALE_MS * 4);
  }
  await multi.exec();
}

export async function removeHeartbeat(redis: Redis, prefix: string, servers: string[], id: string): Promise<void> {
  await Promise.all(servers.map((server) => redis.hdel(key(prefix, server), id)));
}

/** The newest measurement of a server's target (at `path`) among its live workers' beats. */
export function newestTargetSpace(beats: WorkerBeat[], server: string, path: string): (TargetSpace & { host: string }) | null {
  let newest: (TargetSpace & { host: string }) | null = null;
  for (const beat of beats) {
    const space = beat.targets?.[server];
    if (space && space.path === path && (!newest || space.at > newest.at)) newest = { ...space, host: beat.host };
  }
  return newest;
}

/** Live workers per server; stale entries are dropped from the answer and from Redis. */
export async function liveWorkers(redis: Redis, prefix: string, servers: string[], now = Date.now()): Promise<Map<string, WorkerBeat[]>> {
  const result = new Map<string, WorkerBeat[]>();
  for (const server of servers) {
    const entries = await redis.hgetall(key(prefix, server));
    const live: WorkerBeat[] = [];
    for (const [id, raw] of Object.entries(entries)) {
      const beat = JSON.parse(raw) as WorkerBeat;
      if (now - Date.parse(beat.at) <= HEARTBEAT_STALE_MS) live.push(beat);
      else await redis.hdel(key(prefix, server), id);
    }
    result.set(server, live);
  }
  return result;
}
