import { describe, expect, it } from "vitest";
import { redisOptions } from "./redis.ts";

describe("redisOptions (REDIS_URL as ioredis reads it)", () => {
  it("reads host, port and database", () => {
    expect(redisOptions("redis://127.0.0.1:6379")).toMatchObject({ host: "127.0.0.1", port: 6379, db: 0 });
  });

  it("takes rediss:// for TLS, with a user, an encoded password and a database", () => {
    const options = redisOptions("rediss://queue:p%40ss@redis.example:6380/3");
    expect(options).toMatchObject({ host: "redis.example", port: 6380, username: "queue", password: "p@ss", db: 3 });
    expect(options.tls).toBeTruthy();
    expect(redisOptions("redis://redis.example:6380").tls).toBeUndefined();
  });

  it("reads an IPv6 address and its family", () => {
    expect(redisOptions("redis://[::1]:6379?family=6")).toMatchObject({ host: "::1", port: 6379, family: 6 });
  });
});
