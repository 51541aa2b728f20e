/**
 * The one place that reads process.env. Every setting has a default that works on a developer
 * machine with the services from shared/STACK.md; README.md lists them all.
 */
import path from "node:path";
import { z } from "zod";

const schema = z.object({
  DATABASE_URL: z.url().default("postgresql://postgres@127.0.0.1:5432/mailvault"),
  REDIS_URL: z.url().default("redis://127.0.0.1:6379"),
  /**
   * Key prefix for every BullMQ queue and worker heartbeat; tests use their own. In braces
   * (`{mailvault}`) it is a Redis Cluster hash tag, so each queue's keys share one slot.
   */
  MAILVAULT_QUEUE_PREFIX: z
    .string()
    .regex(/^(\{[a-zA-Z0-9_.-]+\}|[a-zA-Z0-9_.-]+)$/, "letters, digits, '.', '_' and '-' only, optionally all in braces ({mailvault}) for Redis Cluster")
    .default("mailvault"),
  /** Where private services, blob volumes, redo archives and backup targets go by default. */
  MAILVAULT_DATA_DIR: z.string().default(path.resolve(/* turbopackIgnore: true */ ".data")),
  /** A running backup session whose heartbeat is older than this is taken for dead (its worker was killed). */
  MAILVAULT_SESSION_STALE_SECONDS: z.coerce.number().int().min(2).max(3600).default(15),
  /** Packs of the backup repository are closed once they pass this size (tests use small ones). */
  MAILVAULT_PACK_BYTES: z.coerce.number().int().min(4096).max(1 << 30).default(16 * 1024 * 1024),
  /** The first admin, created on the first start when the console has no user yet. */
  MAILVAULT_ADMIN_EMAIL: z.email().default("admin@mailvault.local"),
  /** Its password; when unset, the first start generates one and prints it once. */
  MAILVAULT_ADMIN_PASSWORD: z.string().min(10, "at least 10 characters").optional(),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  /** The demo's servers listen for LMTP on this port and the next ones (mail1 here, mail2 one up). */
  MAILVAULT_LMTP_BASE_PORT: z.coerce.number().int().min(1).max(65000).default(7025),
  /** Where report mails go out (docs/monitoring.md): smtp://[user:password@]host:port or smtps://; unset, none is sent. */
  MAILVAULT_SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/[^/]+\/?$/, "smtp://[user:password@]host:port or smtps://...")
    .optional(),
  /** The sender of report mails. */
  MAILVAULT_REPORT_FROM: z.email().default("mailvault@localhost"),
  /** Who gets report mails, comma-separated (a server's reportTo setting overrides it). */
  MAILVAULT_REPORT_TO: z
    .string()
    .default("")
    .transform((v, ctx) => {
      const list = v.split(",").map((a) => a.trim()).filter(Boolean);
      for (const a of list) if (!z.email().safeParse(a).success) ctx.addIssue({ code: "custom", message: `${a} is not an email address` });
      return list;
    }),
  /** Turns on GET /api/metrics (Prometheus), for scrapers that send `Authorization: Bearer <this>`; unset: 404. */
  MAILVAULT_METRICS_TOKEN: z.string().min(16, "at least 16 characters").optional(),
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
});

export type Config = z.infer<typeof schema>;

let cached: Config | undefined;

export function config(): Config {
  if (!cached) {
    const parsed = schema.safeParse(process.env);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
      throw new Error(`invalid configuration: ${problems.join("; ")}`);
    }
    cached = parsed.data;
  }
  return cached;
}

/** Tests and scripts that change the environment after start-up call this to re-read it. */
export function resetConfig(): void {
  cached = undefined;
}

/** The database name in a postgres URL. */
export function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, "")) || "postgres";
}

/** The same server as `url`, another database. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}
