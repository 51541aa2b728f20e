/**
 * `mailvault ... | head`: the reader goes away before the command has written everything. A
 * command that only reads ends quietly with status 0; one that changes something still finishes
 * and is audited. Neither prints a stack trace.
 */
import { spawn } from "node:child_process";
import os from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseName } from "../server/config.ts";
import { prisma } from "../server/db/console-db.ts";
import { seedDemo } from "../server/demo/seed-demo.ts";
import { createTestEnv, type TestEnv } from "../server/testing/test-env.ts";

let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv();
  await seedDemo({ accounts: 0, dataDir: env.dataDir, consoleDatabase: databaseName(env.databaseUrl) });
});

afterAll(() => env?.cleanup());

/** Runs the CLI with its standard output a pipe that is closed at once, as `| head -0` would. */
function withClosedStdout(...args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn("./bin/mailvault", args, { env: process.env, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.destroy();
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

describe("a closed pipe on standard output", () => {
  it("ends a read-only command quietly with status 0", async () => {
    for (const args of [["backupquery", "-s", "mail1"], ["servers", "--json"], ["accounts"]]) {
      expect(await withClosedStdout(...args)).toEqual({ code: 0, stderr: "" });
    }
  });

  it("lets a command that changes something finish, audited, without a stack trace", async () => {
    expect(await withClosedStdout("users", "add", "piped@example.com", "--role", "helpdesk")).toEqual({ code: 0, stderr: "" });
    expect(await prisma().user.findUnique({ where: { email: "piped@example.com" } })).toMatchObject({ role: "helpdesk" });
    const audit = await prisma().auditEntry.findFirstOrThrow({ where: { action: "user.create" }, orderBy: { id: "desc" } });
    expect([audit.actor, audit.outcome]).toEqual([`cli:${os.userInfo().username}`, "ok"]);
  });
});
