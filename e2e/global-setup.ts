/**
 * Starts the built console and one worker against a database, queue prefix and data folder of
 * their own (seeded through the same helper as the demo), waits until /api/health says 200, and
 * returns the teardown that stops them and drops only what was created here.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { FullConfig } from "@playwright/test";
import { createUser } from "../server/auth/users.ts";
import { databaseName, resetConfig, withDatabase } from "../server/config.ts";
import { closeConsoleDb } from "../server/db/console-db.ts";
import { ensureDatabase } from "../server/db/databases.ts";
import { migrateDatabase } from "../server/db/migrate.ts";
import { seedDemo } from "../server/demo/seed-demo.ts";
import { seedDemoMail } from "../server/demo/seed-demo-mail.ts";
import { closeMailstores } from "../server/mailstore/mailstore.ts";
import { deleteRedisKeys, dropDatabasesOf } from "../server/testing/test-env.ts";
import { buildConsole } from "../scripts/lib/next-build.ts";
import { ADMIN, HELPDESK } from "./users.ts";

/** Signs in through the API and saves the browser state (the session cookie) for the tests to use. */
async function saveSignedInState(baseURL: string, user: typeof ADMIN): Promise<void> {
  const response = await fetch(`${baseURL}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: user.email, password: user.password }),
  });
  if (!response.ok) throw new Error(`could not sign in as ${user.email}: HTTP ${response.status}`);
  const [pair] = (response.headers.get("set-cookie") ?? "").split(";");
  const [name, value] = pair!.split("=");
  const cookie = { name: name!, value: value!, domain: new URL(baseURL).hostname, path: "/", expires: -1, httpOnly: true, secure: false, sameSite: "Lax" };
  await mkdir(path.dirname(user.state), { recursive: true });
  await writeFile(user.state, JSON.stringify({ cookies: [cookie], origins: [] }));
}

export default async function globalSetup(config: FullConfig) {
  const baseURL = config.projects[0]!.use.baseURL!;
  const id = randomBytes(4).toString("hex");
  const databaseUrl = withDatabase(process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres", `mailvault_e2e_${id}`);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `mailvault-e2e-${id}-`));
  const env = { ...process.env, DATABASE_URL: databaseUrl, MAILVAULT_QUEUE_PREFIX: `mve2e_${id}`, MAILVAULT_DATA_DIR: dataDir, LOG_LEVEL: "warn", NEXT_TELEMETRY_DISABLED: "1" };

  buildConsole((line) => console.log(line));
  await ensureDatabase(databaseUrl);
  await migrateDatabase(databaseUrl);
  Object.assign(process.env, { DATABASE_URL: databaseUrl, MAILVAULT_DATA_DIR: dataDir });
  resetConfig();
  await seedDemo({ accounts: 240, dataDir, consoleDatabase: databaseName(databaseUrl), lmtpBasePort: 17025 });
  await seedDemoMail({ opsPerAccount: 8 });
  await createUser({ email: ADMIN.email, name: "E2E admin", role: "admin", password: ADMIN.password });
  await createUser({ email: HELPDESK.email, name: "E2E helpdesk", role: "helpdesk", password: HELPDESK.password });
  await closeMailstores();
  await closeConsoleDb();

  const port = new URL(baseURL).port;
  const children: ChildProcess[] = [
    spawn(process.execPath, ["--import", "tsx", "scripts/console-server.ts", "-H", "127.0.0.1"], { env: { ...env, PORT: port }, stdio: "inherit" }),
    spawn(process.execPath, ["--import", "tsx", "workers/main.ts"], { env, stdio: "inherit" }),
  ];

  const teardown = async () => {
    await Promise.all(
      children.map((child) => {
        if (child.exitCode !== null) return;
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        return exited;
      }),
    );
    await deleteRedisKeys(`mve2e_${id}:*`);
    await dropDatabasesOf(databaseUrl);
    await rm(dataDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 60_000;
  for (;;) {
    const status = await fetch(`${baseURL}/api/health`).then((r) => r.status, () => 0);
    if (status === 200) break;
    if (Date.now() > deadline || children.some((c) => c.exitCode !== null)) {
      await teardown();
      throw new Error(`the console did not become healthy at ${baseURL} (last status ${status})`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  await saveSignedInState(baseURL, ADMIN);
  await saveSignedInState(baseURL, HELPDESK);
  return teardown;
}
