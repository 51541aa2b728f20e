/**
 * Redis connections. BullMQ opens its own from `bullmqConnection()`; the console's status checks
 * use `statusClient()`, which fails fast while Redis is down (no offline queue) and reconnects
 * by itself when Redis is back.
 */
import { Redis, type RedisOptions } from "ioredis";
import { config } from "../config.ts";

/** Where Redis is, in the shape both ioredis and BullMQ accept. */
export type RedisAddress = Pick<RedisOptions, "host" | "port" | "path" | "username" | "password" | "db" | "tls" | "family">;

/**
 * REDIS_URL as ioredis itself reads it (`redis://`, `rediss://` for TLS, a user and password, a
 * database number, a Unix socket path, `?family=6`): a client that never connects parses it.
 */
export function redisOptions(url = config().REDIS_URL): RedisAddress {
  const probe = new Redis(url, { lazyConnect: true });
  const { host, port, path, username, password, db, tls, family } = probe.options;
  probe.disconnect();
  return Object.fromEntries(Object.entries({ host, port, path, username, password, db, tls, family }).filter(([, v]) => v !== undefined && v !== null && v !== "")) as RedisAddress;
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
