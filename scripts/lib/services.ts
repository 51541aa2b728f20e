/**
 * Finds PostgreSQL and Redis at DATABASE_URL and REDIS_URL and, when nothing answers on a local
 * address, starts private instances under the data folder (the system's initdb/pg_ctl and
 * redis-server) that `stop()` shuts down again. Used by `npm start` and `npm test`.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, chownSync, writeFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { Redis } from "ioredis";
import { withDatabase } from "../../server/config.ts";

export interface Services {
  /** What this call started, e.g. ["postgres", "redis"]; empty when both were already running. */
  started: string[];
  stop(): Promise<void>;
}

export class ServiceSetupError extends Error {}

type Log = (line: string) => void;

const LOCAL = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: withDatabase(url, "postgres"), connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    return true;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ECONNREFUSED" || code === "ENOENT" || code === "ETIMEDOUT" || code === "57P03") return false;
    throw new ServiceSetupError(`PostgreSQL at ${new URL(url).host} refused the connection: ${(error as Error).message}`);
  } finally {
    await client.end().catch(() => {});
  }
}

async function redisAnswers(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 2_000 });
  client.on("error", () => {});
  try {
    await client.connect();
    return (await client.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/**
 * Runs a PostgreSQL tool in a session of its own (setsid), so the terminal's Ctrl-C reaches only
 * us and we stop the private cluster in order, rather than it receiving the signal directly.
 */
function run(command: string, args: string[], asUser?: string): string {
  const argv = asUser ? ["runuser", "-u", asUser, "--", command, ...args] : [command, ...args];
  return execFileSync("setsid", argv, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function postgresBinDir(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(path.join(root, v, "bin", "pg_ctl")));
  versions.sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], "bin") : undefined;
}

/** initdb refuses to run as root; as root, the cluster belongs to the system's postgres user. */
function clusterOwner(): { user?: string; uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  try {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    return { user: "postgres", uid, gid };
  } catch {
    throw new ServiceSetupError("running as root needs the system user 'postgres' to own a private cluster: apt-get install -y postgresql");
  }
}

async function startPostgres(url: string, dataDir: string, log: Log): Promise<() => Promise<void>> {
  const u = new URL(url);
  const port = u.port || "5432";
  if (!LOCAL.has(u.hostname)) throw new ServiceSetupError(`nothing answers at ${u.host} (DATABASE_URL): start PostgreSQL there or point DATABASE_URL at a running server`);
  const bin = postgresBinDir();
  if (!bin) throw new ServiceSetupError("PostgreSQL is not installed and nothing answers at DATABASE_URL: apt-get install -y postgresql");
  const owner = clusterOwner();
  const cluster = path.join(dataDir, "postgres");
  const sockets = path.join(dataDir, "postgres-run");
  // The data folder stays traversable; only the cluster's own folders are private to its owner.
  mkdirSync(dataDir, { recursive: true });
  for (const dir of [cluster, sockets]) {
    if (!existsSync(dir)) mkdirSync(dir, { mode: 0o700 });
    if (owner.uid !== undefined) chownSync(dir, owner.uid, owner.gid!);
  }
  if (!existsSync(path.join(cluster, "PG_VERSION"))) {
    log(`initialising a private PostgreSQL cluster in ${cluster}`);
    run(path.join(bin, "initdb"), ["-D", cluster, "-U", u.username || "postgres", "--auth=trust", "-E", "UTF8", "--no-instructions"], owner.user);
  }
  const logFile = path.join(sockets, "postgres.log");
  if (owner.uid !== undefined && !existsSync(logFile)) {
    writeFileSync(logFile, "");
    chownSync(logFile, owner.uid, owner.gid!);
  }
  log(`starting private PostgreSQL on port ${port}`);
  run(path.join(bin, "pg_ctl"), ["-D", cluster, "-l", logFile, "-w", "-t", "60", "-o", `-p ${port} -k ${sockets} -c listen_addresses=127.0.0.1`, "start"], owner.user);
  return async () => {
    log("stopping private PostgreSQL");
    run(path.join(bin, "pg_ctl"), ["-D", cluster, "-m", "fast", "-w", "stop"], owner.user);
  };
}

async function startRedis(url: string, dataDir: string, log: Log): Promise<() => Promise<void>> {
  const u = new URL(url);
  if (!LOCAL.has(u.hostname)) throw new ServiceSetupError(`nothing answers at ${u.host} (REDIS_URL): start Redis there or point REDIS_URL at a running server`);
  try {
    execFileSync("sh", ["-c", "command -v redis-server"], { stdio: "ignore" });
  } catch {
    throw new ServiceSetupError("Redis is not installed: apt-get install -y redis-server");
  }
  const dir = path.join(dataDir, "redis");
  mkdirSync(dir, { recursive: true });
  const port = u.port || "6379";
  log(`starting private Redis on port ${port}`);
  const child: ChildProcess = spawn(
    "redis-server",
    ["--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--logfile", path.join(dir, "redis.log")],
    { stdio: "ignore", detached: true },
  );
  for (let i = 0; i < 50 && !(await redisAnswers(url)); i++) await new Promise((r) => setTimeout(r, 100));
  if (!(await redisAnswers(url))) {
    child.kill();
    throw new ServiceSetupError(`the private Redis did not start: see ${path.join(dir, "redis.log")}`);
  }
  return async () => {
    log("stopping private Redis");
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  };
}

export async function ensureServices(options: { databaseUrl: string; redisUrl: string; dataDir: string; log: Log }): Promise<Services> {
  const stops: (() => Promise<void>)[] = [];
  const started: string[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((e: Error) => options.log(`could not stop a service: ${e.message}`));
    stops.length = 0;
  };
  try {
    if (!(await postgresAnswers(options.databaseUrl))) {
      stops.push(await startPostgres(options.databaseUrl, options.dataDir, options.log));
      started.push("postgres");
    }
    if (!(await redisAnswers(options.redisUrl))) {
      stops.push(await startRedis(options.redisUrl, options.dataDir, options.log));
      started.push("redis");
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { started, stop };
}
