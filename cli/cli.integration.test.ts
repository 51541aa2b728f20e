/** The CLI as cron runs it: a real process, real database; exit status and one-line errors. */
import { execFile } from "node:child_process";
import os from "node:os";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseName } from "../server/config.ts";
import { seedDemo } from "../server/demo/seed-demo.ts";
import { createTestEnv, type TestEnv } from "../server/testing/test-env.ts";

let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv();
  await seedDemo({ accounts: 30, dataDir: env.dataDir, consoleDatabase: databaseName(env.databaseUrl) });
});

afterAll(() => env?.cleanup());

async function mailvault(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)("./bin/mailvault", args, { env: process.env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("mailvault CLI", () => {
  it("lists its subcommands", async () => {
    const { code, stdout } = await mailvault("--help");
    expect(code).toBe(0);
    for (const command of ["servers", "accounts", "health"]) expect(stdout).toContain(command);
  });

  it("finds an account by a former name", async () => {
    const { code, stdout } = await mailvault("accounts", "daniel.brown", "--json");
    expect(code).toBe(0);
    expect(JSON.parse(stdout).items[0]).toMatchObject({ email: "dan.brown@example.org", matchedFormerName: "daniel.brown@example.org" });
  });

  it.each([
    [["accounts", "--page", "-1"], "mailvault: page: page starts at 1"],
    [["servers", "mail9"], "mailvault: unknown server: mail9"],
  ])("exits non-zero with one line for %j", async (args, line) => {
    const { code, stderr } = await mailvault(...args);
    expect(code).toBe(1);
    expect(stderr.trim()).toBe(line);
  });

  it("manages console users and audits each change as cli:<os user>", { timeout: 180_000 }, async () => {
    const added = await mailvault("users", "add", "Ines@Example.com", "--role", "helpdesk");
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(/^added ines@example.com \(helpdesk\); password: \S{12,}/);
    const again = await mailvault("users", "add", "ines@example.com", "--role", "helpdesk");
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toBe("mailvault: a user ines@example.com already exists");
    expect((await mailvault("users", "add", "x@example.com", "--role", "boss")).stderr).toMatch(/role is admin or helpdesk/);
    expect((await mailvault("users", "disable", "ines@example.com")).code).toBe(0);
    expect(JSON.parse((await mailvault("users", "--json")).stdout)).toEqual([expect.objectContaining({ email: "ines@example.com", disabled: true })]);

    const { prisma } = await import("../server/db/console-db.ts");
    const entries = await prisma().auditEntry.findMany({ where: { action: { startsWith: "user." } }, orderBy: { id: "asc" } });
    const actor = `cli:${os.userInfo().username}`;
    expect(entries.map((e) => [e.actor, e.action, e.outcome])).toEqual([
      [actor, "user.create", "ok"],
      [actor, "user.create", "refused"],
      [actor, "user.create", "refused"],
      [actor, "user.update", "ok"],
    ]);
    expect(JSON.stringify(entries.map((e) => [e.params, e.message]))).not.toMatch(/password: /);
  });

  it("exits 3 from health when no worker runs", async () => {
    const { code, stdout } = await mailvault("health");
    expect(code).toBe(3);
    expect(stdout).toMatch(/DOWN\s+mail1/);
  });
});
