/**
 * Sign-in, roles and the audit log through the route handlers, against a real database: who may
 * do what is decided on the server, and every change (or refused attempt) leaves an audit entry.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseName } from "@/server/config.ts";
import { seedDemo } from "@/server/demo/seed-demo.ts";
import { setUpServerStore } from "@/server/mailstore/setup-mailstore.ts";
import { CLIENT_ADDRESS_HEADER } from "@/server/auth/client-address.ts";
import { apiRequest, createTestEnv, signedInCookie, type TestEnv } from "@/server/testing/test-env.ts";
import { GET as getAudit } from "../audit/route.ts";
import { POST as postBackup } from "../backups/route.ts";
import { GET as getMe } from "../me/route.ts";
import { POST as postRestore } from "../restores/route.ts";
import { GET as getServers } from "../servers/route.ts";
import { PATCH as patchUser } from "../users/[email]/route.ts";
import { GET as getUsers, POST as postUser } from "../users/route.ts";
import { POST as login } from "./login/route.ts";
import { POST as logout } from "./logout/route.ts";

let env: TestEnv;
let admin = "";
let helpdesk = "";

beforeAll(async () => {
  env = await createTestEnv();
  await seedDemo({ accounts: 240, dataDir: env.dataDir, consoleDatabase: databaseName(env.databaseUrl) });
  await setUpServerStore("mail1");
  admin = await signedInCookie("admin");
  helpdesk = await signedInCookie("helpdesk");
});

afterAll(() => env?.cleanup());

const call = apiRequest;

async function auditOf(action: string) {
  const body = await (await getAudit(call(`/api/audit?action=${action}`, admin))).json();
  // Few entries: the count is the whole, not "1,000+".
  expect(body).toMatchObject({ total: expect.any(Number), totalExact: true });
  return body.entries as { actor: string; action: string; outcome: string; status: number; params: Record<string, unknown> }[];
}

describe("sign-in", () => {
  it("answers 401 without a session, and sets an http-only cookie on a right password", async () => {
    expect((await getServers(call("/api/servers", ""))).status).toBe(401);
    expect((await getServers(call("/api/servers", "mailvault_session=forged"))).status).toBe(401);

    const wrong = await login(call("/api/auth/login", "", { method: "POST", body: { email: "admin@test.example", password: "not the password" } }));
    expect(wrong.status).toBe(401);
    expect((await wrong.json()).error.code).toBe("bad_credentials");

    const right = await login(call("/api/auth/login", "", { method: "POST", body: { email: "Admin@Test.Example", password: "correct horse battery" } }));
    expect(right.status).toBe(200);
    const setCookie = right.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/^mailvault_session=[\w-]{40,};/);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=lax/i);
    const cookie = setCookie.split(";")[0]!;
    expect((await (await getMe(call("/api/me", cookie))).json()).user).toMatchObject({ email: "admin@test.example", role: "admin" });

    await logout(call("/api/auth/logout", cookie, { method: "POST" }));
    expect((await getMe(call("/api/me", cookie))).status).toBe(401);

    const attempts = await auditOf("auth.login");
    expect(attempts.map((a) => a.outcome)).toEqual(expect.arrayContaining(["ok", "refused"]));
    expect(JSON.stringify(attempts)).not.toContain("not the password");
  });
});

describe("sign-in input", () => {
  it("answers 400, never 500, for a null body, non-text or huge fields", async () => {
    for (const body of [null, [], "text", { email: 5, password: "a long enough password" }, { email: "admin@test.example", password: { $ne: "" } }, { email: "admin@test.example", password: null }, { email: "x".repeat(1_000_000), password: "p" }]) {
      const response = await login(new Request("http://localhost/api/auth/login", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }));
      expect(response.status, JSON.stringify(body).slice(0, 60)).toBe(400);
      expect((await response.json()).error.code).toBe("invalid_input");
    }
  });
});

describe("cross-site requests", () => {
  it("takes changes only from the console's own pages", async () => {
    const from = (origin: string) =>
      new Request("http://console.example:3000/api/backups", { method: "POST", headers: { cookie: admin, origin, host: "console.example:3000", "content-type": "application/json" }, body: JSON.stringify({ server: "mail9", type: "full" }) });
    const foreign = await postBackup(from("https://evil.example"));
    expect(foreign.status).toBe(403);
    expect((await foreign.json()).error.code).toBe("cross_site");
    // The console's own page gets past the check (and then the unknown server answers).
    expect((await postBackup(from("http://console.example:3000"))).status).toBe(404);
    const signIn = await login(new Request("http://console.example:3000/api/auth/login", { method: "POST", headers: { origin: "https://evil.example", host: "console.example:3000" }, body: "{}" }));
    expect(signIn.status).toBe(403);
  });
});

describe("lockout", () => {
  const from = (address: string) => ({ [CLIENT_ADDRESS_HEADER]: address });
  const attempt = (password: string, address: string, email = "locked@test.example") => login(call("/api/auth/login", "", { method: "POST", body: { email, password }, headers: from(address) }));

  it("refuses an email from one address for a while after 10 failed sign-ins there, even with the right password", async () => {
    await signedInCookie("helpdesk", "locked@test.example");
    for (let i = 0; i < 10; i++) expect((await attempt("wrong password", "203.0.113.9")).status).toBe(401);
    const locked = await attempt("correct horse battery", "203.0.113.9");
    expect(locked.status).toBe(429);
    expect((await locked.json()).error.message).toBe("too many failed sign-ins for locked@test.example from this address: try again in 15 minutes");
    // The owner, from their own address, is not locked out by a stranger's guesses.
    expect((await attempt("correct horse battery", "198.51.100.7")).status).toBe(200);
    // Other users are not affected.
    expect((await attempt("correct horse battery", "203.0.113.9", "admin@test.example")).status).toBe(200);
    const entries = (await (await getAudit(call("/api/audit?action=auth.login&actor=locked@test.example", admin))).json()).entries as { address: string; status: number }[];
    expect(entries.filter((e) => e.status === 401).every((e) => e.address === "203.0.113.9")).toBe(true);
  });

  it("gives a burst of simultaneous guesses no more password checks than the limit", async () => {
    await signedInCookie("helpdesk", "burst@test.example");
    const answers = await Promise.all(Array.from({ length: 30 }, () => attempt("wrong password", "203.0.113.50", "burst@test.example")));
    const statuses = answers.map((a) => a.status);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(10);
    // Every attempt is in the audit log, none left pending.
    const { entries } = await (await getAudit(call("/api/audit?action=auth.login&actor=burst@test.example&pageSize=100", admin))).json();
    expect(entries.filter((e: { address: string }) => e.address === "203.0.113.50").map((e: { status: number }) => e.status).sort()).toEqual([...statuses].sort());
  });

  it("replaces a hash made at an older cost when its user signs in", async () => {
    const { prisma } = await import("@/server/db/console-db.ts");
    const { SCRYPT } = await import("@/server/auth/passwords.ts");
    const { scryptSync, randomBytes } = await import("node:crypto");
    const salt = randomBytes(16);
    const old = `scrypt$16384$8$1$${salt.toString("base64")}$${scryptSync("an old cheap password", salt, 32, { N: 16384, r: 8, p: 1 }).toString("base64")}`;
    await signedInCookie("helpdesk", "oldhash@test.example");
    await prisma().user.update({ where: { email: "oldhash@test.example" }, data: { passwordHash: old } });
    expect((await attempt("an old cheap password", "198.51.100.7", "oldhash@test.example")).status).toBe(200);
    const { passwordHash } = await prisma().user.findUniqueOrThrow({ where: { email: "oldhash@test.example" } });
    expect(passwordHash.split("$").slice(0, 4)).toEqual(["scrypt", String(SCRYPT.N), String(SCRYPT.r), String(SCRYPT.p)]);
    expect((await attempt("an old cheap password", "198.51.100.7", "oldhash@test.example")).status).toBe(200);
  });
});

describe("helpdesk", () => {
  it("reads, but may not back up, restore in place, restore several accounts, read the audit log or manage users", async () => {
    expect((await getServers(call("/api/servers", helpdesk))).status).toBe(200);
    const refused = [
      await postBackup(call("/api/backups", helpdesk, { method: "POST", body: { server: "mail1", type: "full" } })),
      await postRestore(call("/api/restores", helpdesk, { method: "POST", body: { server: "mail1", accounts: ["carol.white@example.com"] } })),
      await postRestore(
        call("/api/restores", helpdesk, { method: "POST", body: { server: "mail1", accounts: ["carol.white@example.com", "dan.brown@example.org"], copy: true, prefix: "restore_" } }),
      ),
      await getAudit(call("/api/audit", helpdesk)),
      await getUsers(call("/api/users", helpdesk)),
    ];
    for (const response of refused) {
      expect(response.status).toBe(403);
      expect((await response.json()).error.code).toBe("forbidden");
    }
    const inPlace = (await auditOf("restore.start")).find((e) => e.actor === "helpdesk@test.example" && (e.params.accounts as string[]).length === 1);
    expect(inPlace).toMatchObject({ outcome: "refused", status: 403 });
    expect((await auditOf("backup.start"))[0]).toMatchObject({ actor: "helpdesk@test.example", outcome: "refused" });
  });

  it("may plan a restore of one account into a prefixed copy (the planner, not the role, answers)", async () => {
    const response = await postRestore(
      call("/api/restores", helpdesk, { method: "POST", body: { server: "mail1", accounts: ["carol.white@example.com"], copy: true, prefix: "restore_", dryRun: true } }),
    );
    // No backup exists in this database: the plan is refused for that reason, not for the role.
    expect(response.status).toBe(400);
    expect((await response.json()).error.message).toMatch(/no full backup of carol.white@example.com/);
  });
});

describe("users", () => {
  it("lets an admin add a helpdesk user, refuses bad input and duplicates, and disabling signs them out", async () => {
    const bad = await postUser(call("/api/users", admin, { method: "POST", body: { email: "not-an-email", role: "boss", password: "short" } }));
    expect(bad.status).toBe(400);
    const created = await postUser(call("/api/users", admin, { method: "POST", body: { email: "Hana@Example.com", role: "helpdesk", password: "a long enough password" } }));
    expect(created.status).toBe(201);
    expect((await postUser(call("/api/users", admin, { method: "POST", body: { email: "hana@example.com", role: "helpdesk", password: "another long one" } }))).status).toBe(409);

    const signedIn = await login(call("/api/auth/login", "", { method: "POST", body: { email: "hana@example.com", password: "a long enough password" } }));
    const cookie = (signedIn.headers.get("set-cookie") ?? "").split(";")[0]!;
    expect((await getMe(call("/api/me", cookie))).status).toBe(200);
    expect((await patchUser(call("/api/users/hana%40example.com", admin, { method: "PATCH", body: { disabled: true } }), { params: Promise.resolve({ email: "hana%40example.com" }) })).status).toBe(200);
    expect((await getMe(call("/api/me", cookie))).status).toBe(401);

    const users = (await (await getUsers(call("/api/users", admin))).json()).users as { email: string; disabled: boolean }[];
    expect(users.find((u) => u.email === "hana@example.com")).toMatchObject({ disabled: true });
    // The entry keeps the input as read: the email as the account is named, lowercased.
    const created_ = (await auditOf("user.create")).find((e) => e.params.email === "hana@example.com" && e.status === 201);
    expect(created_).toMatchObject({ actor: "admin@test.example", outcome: "ok", status: 201 });
    expect(created_!.params.password).toBe("(redacted)");
  });
});

describe("user changes", () => {
  const patch = (email: string, body: unknown, cookie = admin) =>
    patchUser(call(`/api/users/${encodeURIComponent(email)}`, cookie, { method: "PATCH", body }), { params: Promise.resolve({ email: encodeURIComponent(email) }) });
  const signInAs = async (email: string, password: string) => {
    const response = await login(call("/api/auth/login", "", { method: "POST", body: { email, password } }));
    return (response.headers.get("set-cookie") ?? "").split(";")[0]!;
  };

  it("takes disabled only as a JSON boolean, and refuses an empty or unknown patch without changing anything", async () => {
    await postUser(call("/api/users", admin, { method: "POST", body: { email: "olga@example.com", role: "helpdesk", password: "a long enough password" } }));
    for (const body of [{ disabled: "false" }, { disabled: 1 }, {}, null, { role: "admin" }, { password: 12345678901 }]) {
      const response = await patch("olga@example.com", body);
      expect(response.status, JSON.stringify(body)).toBe(400);
    }
    const users = (await (await getUsers(call("/api/users", admin))).json()).users as { email: string; disabled: boolean }[];
    expect(users.find((u) => u.email === "olga@example.com")).toMatchObject({ disabled: false });
  });

  it("ends the user's other sessions when the password changes, keeping the caller's own", async () => {
    const elsewhere = await signInAs("olga@example.com", "a long enough password");
    expect((await getMe(call("/api/me", elsewhere))).status).toBe(200);
    expect((await patch("olga@example.com", { password: "a brand new password" })).status).toBe(200);
    expect((await getMe(call("/api/me", elsewhere))).status).toBe(401);
    expect((await getMe(call("/api/me", admin))).status).toBe(200);
    expect(await signInAs("olga@example.com", "a brand new password")).not.toBe("");
  });

  it("purges expired sessions when someone signs in", async () => {
    const { prisma } = await import("@/server/db/console-db.ts");
    const olga = await prisma().user.findUniqueOrThrow({ where: { email: "olga@example.com" } });
    await prisma().userSession.create({ data: { tokenHash: "expired-session-of-olga", userId: olga.id, expiresAt: new Date(Date.now() - 60_000) } });
    await signInAs("olga@example.com", "a brand new password");
    expect(await prisma().userSession.count({ where: { tokenHash: "expired-session-of-olga" } })).toBe(0);
  });
});

describe("the audit log page", () => {
  it("counts matches exactly up to 1,000, says when there are more, and still pages past them", async () => {
    const { consolePool } = await import("@/server/db/console-db.ts");
    await consolePool().query(
      `INSERT INTO audit_log (at, actor, role, action, outcome, status) SELECT now() - g * interval '1 second', 'filler@example.com', 'admin', 'filler.test', 'ok', 200 FROM generate_series(1, 1050) AS g`,
    );
    const page = async (query: string) => (await getAudit(call(`/api/audit?action=filler.&${query}`, admin))).json();
    expect(await page("page=1")).toMatchObject({ total: 1_000, totalExact: false });
    // The last page is counted to its end: 1,050 exactly, and its 50 entries are there.
    const last = await page("page=21");
    expect(last).toMatchObject({ total: 1_050, totalExact: true });
    expect(last.entries).toHaveLength(50);
    expect(await page("page=1&outcome=refused")).toMatchObject({ total: 0, totalExact: true });
  });
});

describe("the audit log cannot be skipped", () => {
  it("records a change whose body carries NUL, deep nesting and unknown fields as its parsed input", async () => {
    const fields = { email: "ivo@example.com", role: "helpdesk", password: "a long enough password", note: "bad\u0000byte", extra: { nested: { passphrase: "p", apiKey: "k", list: [{ token: "t" }] } } };
    // 10,000 levels of nesting, written out: JSON.stringify itself cannot go that deep.
    const raw = `${JSON.stringify(fields).slice(0, -1)},"deep":${'{"d":'.repeat(10_000)}{}${"}".repeat(10_000)}}`;
    const response = await postUser(new Request("http://localhost/api/users", { method: "POST", headers: { cookie: admin, "content-type": "application/json" }, body: raw }));
    expect(response.status).toBe(201);
    const entry = (await auditOf("user.create")).find((e) => e.params.email === "ivo@example.com");
    expect(entry).toMatchObject({ outcome: "ok", status: 201 });
    // What the call means, not what was sent: known fields as parsed, defaults filled in, no strays.
    expect(entry!.params).toEqual({ email: "ivo@example.com", name: "", role: "helpdesk", password: "(redacted)" });
  });

  it("refuses a NUL in a stored field with 400, and records the refusal with the known fields only", async () => {
    const response = await postUser(call("/api/users", admin, { method: "POST", body: { email: "nul@example.com", name: "bad\u0000name", role: "helpdesk", password: "a long enough password", stray: "x" } }));
    expect(response.status).toBe(400);
    const entry = (await auditOf("user.create")).find((e) => e.params.email === "nul@example.com");
    expect(entry).toMatchObject({ outcome: "refused", status: 400 });
    expect(entry!.params).toEqual({ email: "nul@example.com", name: "bad\uFFFDname", role: "helpdesk", password: "(redacted)" });
  });

  it("makes no change when its entry cannot be written", async () => {
    const { consolePool } = await import("@/server/db/console-db.ts");
    await consolePool().query("ALTER TABLE audit_log RENAME TO audit_log_away");
    let response: Response;
    try {
      response = await postUser(call("/api/users", admin, { method: "POST", body: { email: "uma@example.com", role: "helpdesk", password: "a long enough password" } }));
    } finally {
      await consolePool().query("ALTER TABLE audit_log_away RENAME TO audit_log");
    }
    expect(response.status).toBe(503);
    expect((await response.json()).error).toMatchObject({ code: "audit_unavailable", message: expect.stringMatching(/nothing was changed/) });
    const users = (await (await getUsers(call("/api/users", admin))).json()).users as { email: string }[];
    expect(users.map((u) => u.email)).not.toContain("uma@example.com");
  });
});
