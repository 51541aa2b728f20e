import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseName } from "../config.ts";
import { prisma } from "../db/console-db.ts";
import { seedDemo } from "../demo/seed-demo.ts";
import { getServer } from "../directory/list-servers.ts";
import { createTestEnv, type TestEnv } from "../testing/test-env.ts";
import { expectedRecovery } from "./expected-recovery.ts";

let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv();
  await seedDemo({ accounts: 40, dataDir: env.dataDir, consoleDatabase: databaseName(env.databaseUrl) });
});

afterAll(() => env?.cleanup());

/** A finished restore run of `mailboxes` accounts that took `seconds`, as the worker records one. */
async function run(label: string, mailboxes: number, seconds: number, endedAt: Date, status = "completed") {
  await prisma().restoreRun.create({
    data: {
      label,
      server: "mail1",
      status,
      plan: {},
      startedAt: new Date(endedAt.getTime() - seconds * 1000),
      endedAt,
      result: { restored: Array.from({ length: mailboxes }, (_, i) => ({ requested: `a${i}@example.com` })) },
    },
  });
}

describe("expectedRecovery", () => {
  it("says nothing is measured until a run of 5 or more mailboxes completes, then scales the newest one to the server and to a group", async () => {
    const mail1 = await getServer("mail1");
    const mailboxes = mail1.accounts.total - mail1.accounts.deleted;
    expect(mailboxes).toBeGreaterThan(10);
    expect(await expectedRecovery("mail1")).toMatchObject({ mailboxes, measured: null, estimate: null });

    await run("restore-one", 1, 2, new Date("2026-12-01T10:00:00Z"));
    await run("restore-failed", 50, 10, new Date("2026-12-01T11:00:00Z"), "partial");
    expect((await expectedRecovery("mail1")).measured).toBeNull();

    await run("restore-group", 10, 5, new Date("2026-12-01T12:00:00Z"));
    await run("restore-older", 20, 100, new Date("2026-11-01T12:00:00Z"));
    const found = await expectedRecovery("mail1");
    expect(found.measured).toEqual({ run: "restore-group", endedAt: "2026-12-01T12:00:00.000Z", mailboxes: 10, seconds: 5, secondsPerMailbox: 0.5 });
    const groupMailboxes = Math.ceil(mailboxes / mail1.settings.mailboxGroups);
    expect(found.estimate).toEqual({ server: 0.5 * mailboxes, group: 0.5 * groupMailboxes, groupMailboxes });
    // Another server's runs are its own.
    expect((await expectedRecovery("mail2")).measured).toBeNull();
  });

  it("answers an unknown server with not found", async () => {
    await expect(expectedRecovery("mail9")).rejects.toMatchObject({ kind: "not_found", code: "server_not_found" });
  });
});
