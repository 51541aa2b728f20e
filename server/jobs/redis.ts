/**
 * Redis connections. BullMQ opens its own from `bullmqConnection()`; the console's status checks
 * use `statusClient()`, which fails fast while Redis is down (no offline queue) and reconnects
 * by itself when Redis is back.
 */
import { Redis } from "ioredis";
import { config } from "../config.ts";

/** Where Redis is, in the shape both ioredis and BullMQ accept. */
export interface RedisAddress {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
}

export function redisOptions(url = config().REDIS_URL): RedisAddress {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
  };
}

/** Options for BullMQ queues that answer API requests: fail fast rather than wait for Redis. */
export function bullmqConnection() {
  return { ...redisOptions(), enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2_000 };
}

const holder = globalThis as unknown as { __mailvaultStatusRedis?: Redis };

export function statusClient(): Redis {
  if (!holder.__mailvaultStatusRedis) {
    const client = new Redis({
      ...redisOptions(),
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 2_000,
      retryStrategy: () => 1_000,
      lazyConnect: false,
    });
    client.on("error", () => {}); // reported through the checks that use it
    holder.__mailvaultStatusRedis = client;
  }
  return holder.__mailvaultStatusRedis;
}

export async function closeStatusClient(): Promise<void> {
  const client = holder.__mailvaultStatusRedis;
  holder.__mailvaultStatusRedis = undefined;
  client?.disconnect();
}

/** The status client once it is connected; while Redis is down this waits (callers time out). */
export async function readyStatusClient(): Promise<Redis> {
  const client = statusClient();
  if (client.status !== "ready") {
    await new Promise<void>((resolve) => {
      const check = () => {
        if (client.status === "ready") {
          client.off("ready", check);
          resolve();
        }
      };
      client.on("ready", check);
      setTimeout(() => {
        client.off("ready", check);
        resolve();
      }, 2_500).unref();
    });
  }
  return client;
}
