/**
 * `npm start`: everything the console needs, in order, and nothing left behind on Ctrl-C.
 * Finds (or starts) PostgreSQL and Redis, creates and migrates the console database, seeds the
 * demo directory when it is empty, builds the console if its sources changed, then runs
 * the console (Next behind scripts/console-server.ts) and one worker process until the user presses Ctrl-C. A worker that exits (a crash,
 * a lost service) is started again after a pause that doubles from 1 s to 30 s and starts over
 * once a worker ran a minute; the console exiting stops everything.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { config, databaseName } from "../server/config.ts";
import { createUser, ensureFirstAdmin } from "../server/auth/users.ts";
import { submitBackup } from "../server/backup/submit-backup.ts";
import { closeQueues } from "../server/jobs/queues.ts";
import { closeConsoleDb, prisma } from "../server/db/console-db.ts";
import { ensureDatabase } from "../server/db/databases.ts";
import { migrateDatabase } from "../server/db/migrate.ts";
import { seedDemo } from "../server/demo/seed-demo.ts";
import { seedDemoMail } from "../server/demo/seed-demo-mail.ts";
import { listServerNames } from "../server/directory/list-servers.ts";
import { closeMailstores } from "../server/mailstore/mailstore.ts";
import { setUpServerStore } from "../server/mailstore/setup-mailstore.ts";
import { buildConsole } from "./lib/next-build.ts";
import { ensureServices, ServiceSetupError, type Services } from "./lib/services.ts";

const dev = process.argv.includes("--dev");
/** Operations per demo mailbox on first start: about 30 messages each, a few busy mailboxes far more. */
const DEMO_OPS_PER_ACCOUNT = 50;
const log = (line: string) => console.log(`[mailvault] ${line}`);
const { DATABASE_URL, REDIS_URL, MAILVAULT_DATA_DIR, PORT, MAILVAULT_ADMIN_EMAIL, MAILVAULT_ADMIN_PASSWORD, MAILVAULT_LMTP_BASE_PORT } = config();

let services: Services | undefined;
const children: ChildProcess[] = [];
let stopping: Promise<void> | undefined;

/** Stops the children, then the services; a second call (Ctrl-C twice) waits for the first. */
async function shutdown(code: number): Promise<never> {
  stopping ??= (async () => {
    const exits = children.filter((c) => c.exitCode === null).map((c) => new Promise((r) => c.once("exit", r)));
    for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
    await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 10_000))]);
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    await services?.stop();
  })();
  await stopping;
  process.exit(code);
}

process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

const RESTART_FIRST_MS = 1_000;
const RESTART_MAX_MS = 30_000;
/** A worker that ran this long before exiting was healthy: its next restart waits the first pause again. */
const RESTART_RESET_AFTER_MS = 60_000;

/** Runs a child; when it exits, `restart` says whether to start it again, else everything stops. */
function launch(name: string, [command, ...args]: [string, ...string[]], options: { restart?: boolean; env?: Record<string, string> } = {}, pauseMs = RESTART_FIRST_MS): void {
  const startedAt = Date.now();
  const child = spawn(command, args, { stdio: "inherit", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", ...options.env } });
  child.once("exit", (code, signal) => {
    children.splice(children.indexOf(child), 1);
    // Ctrl-C reaches the children too; their exit is then part of stopping, not a failure.
    if (stopping || signal === "SIGINT" || code === 130) return;
    if (!options.restart) {
      log(`${name} exited (${signal ?? code}); stopping the rest`);
      void shutdown(code === 0 ? 1 : (code ?? 1));
      return;
    }
    const pause = Date.now() - startedAt >= RESTART_RESET_AFTER_MS ? RESTART_FIRST_MS : pauseMs;
    log(`${name} exited (${signal ?? code}); starting it again in ${pause / 1000} s`);
    const timer = setTimeout(() => {
      if (!stopping) launch(name, [command, ...args], options, Math.min(pause * 2, RESTART_MAX_MS));
    }, pause);
    // Ctrl-C during the pause must not wait for it.
    timer.unref();
  });
  children.push(child);
}

try {
  services = await ensureServices({ databaseUrl: DATABASE_URL, redisUrl: REDIS_URL, dataDir: MAILVAULT_DATA_DIR, log });
  if (await ensureDatabase(DATABASE_URL)) log(`created database ${databaseName(DATABASE_URL)}`);
  const { applied } = await migrateDatabase(DATABASE_URL);
  if (applied.length) log(`applied migrations: ${applied.join(", ")}`);
  const admin = await ensureFirstAdmin({ email: MAILVAULT_ADMIN_EMAIL, password: MAILVAULT_ADMIN_PASSWORD });
  if (admin?.password) {
    log(`created the first admin: sign in as ${admin.email} with password ${admin.password}`);
    log(`this password is shown only now; change it on the Users page, or reset it with ./bin/mailvault users passwd ${admin.email}`);
  } else if (admin) log(`created the first admin ${admin.email} with the password from MAILVAULT_ADMIN_PASSWORD`);
  if ((await prisma().server.count()) === 0) {
    const seeded = await seedDemo({ accounts: 240, dataDir: MAILVAULT_DATA_DIR, consoleDatabase: databaseName(DATABASE_URL), lmtpBasePort: MAILVAULT_LMTP_BASE_PORT });
    log(`seeded the demo directory: ${seeded.servers} servers, ${seeded.accountsCreated} accounts; filling mailboxes (about a minute, once)`);
    const mail = await seedDemoMail({ opsPerAccount: DEMO_OPS_PER_ACCOUNT });
    for (const [server, r] of Object.entries(mail)) log(`${server}: ${r.mailboxes} mailboxes, ${r.recipients} messages delivered, ${r.ops} operations in ${r.seconds.toFixed(0)} s`);
    // So the demo has something to restore from at once: a first full of each server, run by the worker.
    for (const server of await listServerNames()) log(`queued ${(await submitBackup({ server, type: "full", requestedBy: "demo: first start" })).label} on ${server}`);
    const helpdesk = { email: "helpdesk@mailvault.local", password: randomBytes(9).toString("base64url") };
    await createUser({ ...helpdesk, name: "Demo helpdesk", role: "helpdesk" });
    log(`created a demo helpdesk user: ${helpdesk.email} with password ${helpdesk.password} (shown only now)`);
  } else {
    for (const server of await listServerNames()) await setUpServerStore(server);
  }
  await closeMailstores();
  await closeQueues();
  await closeConsoleDb();
  if (!dev) buildConsole(log);
} catch (error) {
  const message = error instanceof ServiceSetupError ? error.message : `start failed: ${(error as Error).message}`;
  console.error(`[mailvault] ${message}`);
  await shutdown(1);
}

launch("console", [process.execPath, "--import", "tsx", "scripts/console-server.ts", ...(dev ? ["--dev"] : [])], { env: { PORT: String(PORT) } });
launch("worker", ["bin/mailvault-worker"], { restart: true });
log(`console on http://localhost:${PORT} (Ctrl-C stops everything this command started)`);
