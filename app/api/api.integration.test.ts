/**
 * The route handlers as the console and the CLI call them, against a real seeded database:
 * status codes and the `{ error: { code, message } }` shape for a caller's mistakes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseName } from "@/server/config.ts";
import { seedDemo } from "@/server/demo/seed-demo.ts";
import { createTestEnv, signedInCookie, type TestEnv } from "@/server/testing/test-env.ts";
import { GET as getAccounts } from "./accounts/route.ts";
import { GET as getServers } from "./servers/route.ts";
import { GET as getServer } from "./servers/[name]/route.ts";
import { GET as unknownRoute } from "./[...path]/route.ts";
import { GET as getJobs } from "./jobs/route.ts";
import { GET as getRestores } from "./restores/route.ts";
import { GET as getSessions } from "./sessions/route.ts";

let env: TestEnv;
let cookie = "";

beforeAll(async () => {
  env = await createTestEnv();
  await seedDemo({ accounts: 240, dataDir: env.dataDir, consoleDatabase: databaseName(env.databaseUrl) });
  cookie = await signedInCookie("helpdesk");
});

afterAll(() => env?.cleanup());

const request = (path: string) => new Request(`http://localhost${path}`, { headers: { cookie } });
const params = (name: string) => ({ params: Promise.resolve({ name }) });

describe("GET /api/accounts", () => {
  it("answers a search by former name with the current name and the name that matched", async () => {
    const response = await getAccounts(request("/api/accounts?q=dbrown"));
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body.items[0]).toMatchObject({ email: "dan.brown@example.org", matchedFormerName: "dbrown@example.org", deletedAt: null });
    expect(body).toMatchObject({ total: 1, page: 1, pageSize: 25 });
  });

  it.each([
    ["page=-1", /page is at least 1/],
    ["page=abc", /page/],
    ["pageSize=100000", /pageSize can be at most 200/],
    ["pageSize=0", /pageSize is at least 1/],
    ["status=sleeping", /status/],
  ])("answers ?%s with 400 and a message", async (query, message) => {
    const response = await getAccounts(request(`/api/accounts?${query}`));
    expect(response.status).toBe(400);
    const body = await response.json();
    expect(body.error.code).toBe("invalid_input");
    expect(body.error.message).toMatch(message);
  });
});

describe("GET /api/servers", () => {
  it("lists both demo servers with their account counts", async () => {
    const body = await (await getServers(request("/api/servers"))).json();
    expect(body.servers.map((s: { name: string }) => s.name)).toEqual(["mail1", "mail2"]);
    expect(body.servers[0].accounts.total).toBeGreaterThan(0);
    expect(body.servers[0].settings.mailboxGroups).toBe(8);
  });

  it("answers one server, and 404 with a code for an unknown one", async () => {
    const one = await getServer(request("/api/servers/mail2"), params("mail2"));
    expect(one.status).toBe(200);
    expect((await one.json()).backupMode).toBe("auto_grouped");

    const missing = await getServer(request("/api/servers/mail9"), params("mail9"));
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { code: "server_not_found", message: "unknown server: mail9" } });
  });

  it("answers an unknown API path with a JSON 404", async () => {
    const response = await unknownRoute(request("/api/nothing-here"));
    expect(response.status).toBe(404);
    expect((await response.json()).error.code).toBe("not_found");
  });
});

describe("?server= naming no server", () => {
  it.each([
    ["/api/accounts?server=nosuch", getAccounts],
    ["/api/sessions?server=nosuch", getSessions],
    ["/api/restores?server=nosuch", getRestores],
    ["/api/jobs?server=nosuch", getJobs],
  ] as const)("%s answers 404 server_not_found", async (path, route) => {
    const response = await route(request(path));
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: { code: "server_not_found", message: "unknown server: nosuch" } });
  });
});
