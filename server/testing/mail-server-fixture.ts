/**
 * The set-up most integration tests share, once: a test environment of their own (database,
 * queue prefix, data folder), the demo directory, mail1's mailstore with some accounts and
 * traffic, and optionally the workers, all torn down after the file.
 *
 *   const fx = useMailServer({ accounts: { prefix: "tool", count: 4 }, traffic: { ops: 200, seed: 6 }, workers: startWorkers });
 *   it("...", () => fx.store ...);
 *
 * The hooks are registered by the call, so a file's own `beforeAll` runs after this one and its
 * `afterAll` before the teardown. The worker starter is passed in: `server/` does not import the
 * workers.
 */
import { afterAll, beforeAll } from "vitest";
import { databaseName } from "../config.ts";
import { prisma } from "../db/console-db.ts";
import { generateTraffic } from "../demo/generate-traffic.ts";
import { seedDemo } from "../demo/seed-demo.ts";
import { createAccount } from "../mailstore/account-operations.ts";
import { openMailstore, type Mailstore } from "../mailstore/mailstore.ts";
import { setUpServerStore } from "../mailstore/setup-mailstore.ts";
import { createTestEnv, type TestEnv } from "./test-env.ts";

interface Closeable {
  close(): Promise<void>;
}

export interface MailServerOptions<W extends Closeable> {
  /** Merged into mail1's settings before its mailstore is set up (mailboxGroups, redoKeepSeconds...). */
  settings?: Record<string, unknown>;
  /** mail1's backup target, when not the default folder (an s3:// URL, say). */
  backupTarget?: () => string | Promise<string>;
  /** `<prefix><n>@example.com`, n from 0. */
  accounts?: { prefix: string; count: number };
  traffic?: { ops: number; seed: number; concurrency?: number };
  /** LMTP ports of the demo servers: a random base, for files whose workers listen. */
  randomLmtpPorts?: boolean;
  /** Starts mail1's workers after the traffic (pass `startWorkers` from workers/start-workers.ts). */
  workers?: (options: { servers: { name: string; concurrency: number }[] }) => Promise<W>;
  concurrency?: number;
  timeoutMs?: number;
}

export interface MailServerFixture<W> {
  env: TestEnv;
  store: Mailstore;
  accounts: { accountId: string; email: string }[];
  /** Undefined unless `workers` was given; a test may stop and replace them. */
  workers: W | undefined;
}

export function useMailServer<W extends Closeable = Closeable>(options: MailServerOptions<W> = {}): MailServerFixture<W> {
  const fixture = { accounts: [], workers: undefined } as unknown as MailServerFixture<W>;
  beforeAll(async () => {
    fixture.env = await createTestEnv();
    await seedDemo({
      accounts: 0,
      dataDir: fixture.env.dataDir,
      consoleDatabase: databaseName(fixture.env.databaseUrl),
      ...(options.randomLmtpPorts ? { lmtpBasePort: 20_000 + Math.floor(Math.random() * 20_000) } : {}),
    });
    if (options.settings || options.backupTarget) {
      const server = await prisma().server.findUniqueOrThrow({ where: { name: "mail1" } });
      await prisma().server.update({
        where: { id: server.id },
        data: { settings: { ...(server.settings as object), ...options.settings } as object, ...(options.backupTarget ? { backupTarget: await options.backupTarget() } : {}) },
      });
    }
    await setUpServerStore("mail1");
    fixture.store = await openMailstore("mail1");
    for (let i = 0; i < (options.accounts?.count ?? 0); i++) {
      const account = await createAccount(fixture.store, { email: `${options.accounts!.prefix}${i}@example.com` });
      fixture.accounts.push({ accountId: account.accountId, email: account.email });
    }
    if (options.traffic) await generateTraffic(fixture.store, { ops: options.traffic.ops, seed: options.traffic.seed, renames: false, concurrency: options.traffic.concurrency ?? 2 });
    if (options.workers) fixture.workers = await options.workers({ servers: [{ name: "mail1", concurrency: options.concurrency ?? 2 }] });
  }, options.timeoutMs ?? 120_000);

  afterAll(async () => {
    await fixture.workers?.close();
    await fixture.env?.cleanup();
  });
  return fixture;
}
