/**
 * The schedule routes against a real database and Redis: anyone signed in reads schedules,
 * only admins change them (a helpdesk PUT is refused with 403 and audited), mistakes answer 400
 * with the reason and change nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseName } from "@/server/config.ts";
import { prisma } from "@/server/db/console-db.ts";
import { seedDemo } from "@/server/demo/seed-demo.ts";
import { apiRequest, createTestEnv, signedInCookie, type TestEnv } from "@/server/testing/test-env.ts";
import { GET as listRoute } from "./route.ts";
import { DELETE as clearRoute, GET as getRoute, PUT as putRoute } from "./[server]/route.ts";
import { POST as defaultsRoute } from "./[server]/defaults/route.ts";

let env: TestEnv;
let admin = "";
let helpdesk = "";

beforeAll(async () => {
  env = await createTestEnv();
  await seedDemo({ accounts: 0, dataDir: env.dataDir, consoleDatabase: databaseName(env.databaseUrl) });
  admin = await signedInCookie("admin");
  helpdesk = await signedInCookie("helpdesk");
});

afterAll(() => env?.cleanup());

const call = apiRequest;
const server = (name: string) => ({ params: Promise.resolve({ server: name }) });
const entries = [{ type: "f", pattern: "0 2 * * 0" }, { type: "d", age: "14d", pattern: "30 0 * * *" }];

describe("schedule routes", () => {
  it("refuses a helpdesk change with 403, audited, and lets helpdesk read", async () => {
    const refused = await putRoute(call("/api/schedules/mail1", helpdesk, { method: "PUT", body: { entries } }), server("mail1"));
    expect(refused.status).toBe(403);
    expect((await refused.json()).error.code).toBe("forbidden");
    expect((await defaultsRoute(call("/api/schedules/mail1/defaults", helpdesk, { method: "POST", body: {} }), server("mail1"))).status).toBe(403);
    expect((await clearRoute(call("/api/schedules/mail1", helpdesk, { method: "DELETE" }), server("mail1"))).status).toBe(403);
    expect(await prisma().backupSchedule.count()).toBe(0);
    const audit = await prisma().auditEntry.findMany({ where: { action: "schedules.update" } });
    expect(audit.map((a) => [a.actor, a.outcome, a.status, a.target])).toEqual(expect.arrayContaining([["helpdesk@test.example", "refused", 403, "mail1"]]));

    const read = await getRoute(call("/api/schedules/mail1", helpdesk), server("mail1"));
    expect(read.status).toBe(200);
    expect((await read.json()).entries).toEqual([]);
    expect((await listRoute(call("/api/schedules", ""))).status).toBe(401);
  });

  it("lets an admin replace, apply the defaults and clear, each audited", async () => {
    const put = await putRoute(call("/api/schedules/mail1", admin, { method: "PUT", body: { entries, tz: "Europe/Berlin" } }), server("mail1"));
    expect(put.status).toBe(200);
    const view = await put.json();
    expect(view.entries.map((e: { text: string; when: string }) => [e.text, e.when])).toEqual([
      ['f "0 2 * * 0" Europe/Berlin', "At 02:00, only on Sunday (Europe/Berlin)"],
      ['d 14d "30 0 * * *" Europe/Berlin', "At 00:30 (Europe/Berlin)"],
    ]);
    expect(view.updatedBy).toBe("admin@test.example");

    const defaults = await defaultsRoute(call("/api/schedules/mail2/defaults", admin, { method: "POST" }), server("mail2"));
    expect((await defaults.json()).entries.map((e: { text: string }) => e.text)).toEqual(['a "0 1 * * *"', 'd 1m "0 0 * * *"']);

    const all = await (await listRoute(call("/api/schedules", helpdesk))).json();
    expect(all.servers.map((s: { server: string; entries: unknown[] }) => [s.server, s.entries.length])).toEqual([
      ["mail1", 2],
      ["mail2", 2],
    ]);

    expect((await clearRoute(call("/api/schedules/mail2", admin, { method: "DELETE" }), server("mail2"))).status).toBe(200);
    expect(await prisma().backupSchedule.count({ where: { server: "mail2" } })).toBe(0);
    const audit = await prisma().auditEntry.findMany({ where: { action: "schedules.update", actor: "admin@test.example" }, orderBy: { at: "asc" } });
    expect(audit.map((a) => [a.target, a.outcome])).toEqual([
      ["mail1", "ok"],
      ["mail2", "ok"],
      ["mail2", "ok"],
    ]);
  });

  it("answers a mistake with 400 and its reason, and an unknown server with 404, changing nothing", async () => {
    const bad = await putRoute(call("/api/schedules/mail1", admin, { method: "PUT", body: { entries: [{ type: "i", pattern: "0 1 * * 9" }] } }), server("mail1"));
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatchObject({ code: "invalid_input", message: expect.stringMatching(/^invalid cron pattern "0 1 \* \* 9" for the incremental backup: /) });
    const shape = await putRoute(call("/api/schedules/mail1", admin, { method: "PUT", body: { entries: "f" } }), server("mail1"));
    expect(shape.status).toBe(400);
    const zone = await defaultsRoute(call("/api/schedules/mail1/defaults", admin, { method: "POST", body: { tz: "Europe/Atlantis" } }), server("mail1"));
    expect((await zone.json()).error.message).toMatch(/unknown time zone "Europe\/Atlantis"/);
    const missing = await getRoute(call("/api/schedules/mail9", admin), server("mail9"));
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe("server_not_found");
    const still = await (await getRoute(call("/api/schedules/mail1", admin), server("mail1"))).json();
    expect(still.entries.map((e: { text: string }) => e.text)).toEqual(['f "0 2 * * 0" Europe/Berlin', 'd 14d "30 0 * * *" Europe/Berlin']);
  });
});
