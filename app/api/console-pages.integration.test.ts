/**
 * The routes behind the console's restore, jobs and dashboard pages, called as a browser would
 * (with a session cookie): a caller's mistake (unknown account, job, run, folder or server, a
 * bad time, a limit too large) answers 4xx with `{ error: { code, message } }`, never 500;
 * helpdesk staff may read but not delete a session, and both attempts are audited.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseName } from "@/server/config.ts";
import { prisma } from "@/server/db/console-db.ts";
import { seedDemo } from "@/server/demo/seed-demo.ts";
import { createAccount } from "@/server/mailstore/account-operations.ts";
import { openMailstore } from "@/server/mailstore/mailstore.ts";
import { setUpServerStore } from "@/server/mailstore/setup-mailstore.ts";
import { startWorkers } from "@/workers/start-workers.ts";
import { apiRequest, createTestEnv, signedInCookie, type TestEnv } from "@/server/testing/test-env.ts";
import { GET as getMessages } from "./accounts/[id]/messages/route.ts";
import { GET as getRestorePoints } from "./accounts/[id]/restore-points/route.ts";
import { GET as getAudit } from "./audit/route.ts";
import { GET as getDashboard } from "./dashboard/route.ts";
import { GET as getJob } from "./jobs/[id]/route.ts";
import { GET as getJobs } from "./jobs/route.ts";
import { GET as getRestore } from "./restores/[label]/route.ts";
import { GET as getRestores } from "./restores/route.ts";
import { GET as getDeletions } from "./servers/[name]/deletions/route.ts";
import { DELETE as deleteSession } from "./sessions/[label]/route.ts";

let env: TestEnv;
let admin = "";
let helpdesk = "";
let accountId = "";

beforeAll(async () => {
  env = await createTestEnv();
  await seedDemo({ accounts: 0, dataDir: env.dataDir, consoleDatabase: databaseName(env.databaseUrl) });
  await setUpServerStore("mail1");
  accountId = (await createAccount(await openMailstore("mail1"), { email: "route@example.com" })).accountId;
  admin = await signedInCookie("admin");
  helpdesk = await signedInCookie("helpdesk");
}, 60_000);

afterAll(() => env?.cleanup());

const call = (path: string, cookie: string, method = "GET") => apiRequest(path, cookie, { method });
const params = <T extends Record<string, string>>(p: T) => ({ params: Promise.resolve(p) });

async function expectError(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  const body = await response.json();
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe("string");
}

describe("reads", () => {
  it("answer 200 for what exists", async () => {
    const points = await getRestorePoints(call(`/api/accounts/${accountId}/restore-points`, helpdesk), params({ id: accountId }));
    expect(points.status).toBe(200);
    expect((await points.json()).window).toMatchObject({ earliest: null, latestIsNow: false });
    const messages = await getMessages(call(`/api/accounts/${accountId}/messages?folder=/Inbox`, helpdesk), params({ id: accountId }));
    expect(messages.status).toBe(200);
    expect(await messages.json()).toMatchObject({ total: 0, folder: { path: "/Inbox" } });
    expect((await getDeletions(call("/api/servers/mail1/deletions?account=route@example.com", helpdesk), params({ name: "mail1" }))).status).toBe(200);
    expect((await getRestores(call("/api/restores?server=mail1", helpdesk))).status).toBe(200);
    const dashboard = await getDashboard(call("/api/dashboard", helpdesk));
    expect(dashboard.status).toBe(200);
    expect((await dashboard.json()).servers).toHaveLength(2);
    expect((await getRestorePoints(call(`/api/accounts/${accountId}/restore-points`, ""), params({ id: accountId }))).status).toBe(401);
  });

  it("answer 4xx, never 500, for a caller's mistake", async () => {
    const unknown = "00000000-0000-4000-8000-000000000000";
    await expectError(await getRestorePoints(call(`/api/accounts/${unknown}/restore-points`, admin), params({ id: unknown })), 404, "account_not_found");
    await expectError(await getRestorePoints(call("/api/accounts/nope/restore-points", admin), params({ id: "nope" })), 404, "account_not_found");
    await expectError(await getMessages(call(`/api/accounts/${accountId}/messages?folder=/Nowhere`, admin), params({ id: accountId })), 404, "folder_not_found");
    await expectError(await getMessages(call(`/api/accounts/${accountId}/messages?pageSize=1000`, admin), params({ id: accountId })), 400, "invalid_input");
    await expectError(await getMessages(call(`/api/accounts/${accountId}/messages?page=0`, admin), params({ id: accountId })), 400, "invalid_input");
    await expectError(await getDeletions(call("/api/servers/mail1/deletions?from=yesterday", admin), params({ name: "mail1" })), 400, "invalid_input");
    await expectError(await getDeletions(call("/api/servers/mail1/deletions?limit=5000", admin), params({ name: "mail1" })), 400, "invalid_input");
    await expectError(await getDeletions(call("/api/servers/mail1/deletions?account=nobody@example.com", admin), params({ name: "mail1" })), 404, "account_not_found");
    await expectError(await getDeletions(call("/api/servers/nosuch/deletions", admin), params({ name: "nosuch" })), 404, "server_not_found");
    await expectError(await getJob(call("/api/jobs/backup-4242?server=mail1", admin), params({ id: "backup-4242" })), 404, "job_not_found");
    await expectError(await getJob(call("/api/jobs/backup-1?server=nosuch", admin), params({ id: "backup-1" })), 404, "server_not_found");
    await expectError(await getJobs(call("/api/jobs?server=nosuch", admin)), 404, "server_not_found");
    await expectError(await getJobs(call("/api/jobs?state=bogus", admin)), 400, "invalid_input");
    await expectError(await getRestore(call("/api/restores/restore-20990101.000000.000", admin), params({ label: "restore-20990101.000000.000" })), 404, "restore_not_found");
    await expectError(await getRestores(call("/api/restores?limit=many", admin)), 400, "invalid_input");
  });
});

describe("DELETE /api/sessions/:label", () => {
  it("is refused to helpdesk staff, 404s an unknown label, deletes a failed session for an admin, and is audited", async () => {
    const server = await prisma().server.findUniqueOrThrow({ where: { name: "mail1" } });
    const { label } = await prisma().backupSession.create({ data: { serverId: server.id, label: "full-20200202.000000.000", type: "full", status: "failed", requestedAccounts: [] } });

    await expectError(await deleteSession(call(`/api/sessions/${label}?server=mail1`, helpdesk, "DELETE"), params({ label })), 403, "forbidden");
    await expectError(await deleteSession(call("/api/sessions/full-19990101.000000.000?server=mail1", admin, "DELETE"), params({ label: "full-19990101.000000.000" })), 404, "session_not_found");
    // The removal runs on the server's worker (a backup.delete job).
    const workers = await startWorkers({ servers: [{ name: "mail1", concurrency: 1, lmtpPort: 0 }] });
    try {
      const deleted = await deleteSession(call(`/api/sessions/${label}?server=mail1`, admin, "DELETE"), params({ label }));
      expect(deleted.status).toBe(200);
      expect(await deleted.json()).toMatchObject({ label, status: "failed", removed: [label] });
    } finally {
      await workers.close();
    }

    const audit = (await (await getAudit(call("/api/audit?action=backup.delete", admin))).json()).entries as { actor: string; outcome: string; status: number; target: string }[];
    expect(audit.map((e) => [e.actor, e.outcome, e.status])).toEqual(
      expect.arrayContaining([
        ["helpdesk@test.example", "refused", 403],
        ["admin@test.example", "refused", 404],
        ["admin@test.example", "ok", 200],
      ]),
    );
  });
});
