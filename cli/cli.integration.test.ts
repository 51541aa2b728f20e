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
  return mailvaultWith({}, ...args);
}

async function mailvaultWith(extra: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)("./bin/mailvault", args, { env: { ...process.env, ...extra } });
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
    [["accounts", "--page", "-1"], "mailvault: page: page is at least 1"],
    [["servers", "mail9"], "mailvault: unknown server: mail9"],
    [["verify", "-s", "mail1", "-lb", "../../../etc"], "mailvault: no backup session ../../../etc"],
    [["backupabort", "-s", "nosuch"], "mailvault: unknown server: nosuch"],
    [["copy", "-s", "mail1", "--to", "tape", "--all"], 'mailvault: mail1 has no copy target "tape": its copy targets are offsite'],
    [["copy", "-s", "mail2", "--to", "offsite", "--all"], "mailvault: mail2 has no copy targets: add one with ./bin/mailvault targets add -s mail2 <name> <folder or s3:// URL>"],
    [["copy", "-s", "mail1", "--to", "offsite"], "mailvault: copy one session (-lb <label>) or all of them (--all)"],
    [["targets", "add", "-s", "mail1", "offsite", "/srv/elsewhere"], "mailvault: mail1 already has a copy target named offsite"],
    [["targets", "add", "-s", "mail1", "cloud", "s3://bucket/x?secret=1"], 'mailvault: unknown S3 target setting "secret": known are endpoint, region and pathStyle'],
    [["targets"], "mailvault: name the server: targets -s <server>"],
    [["drill", "-s", "mail1", "--accounts", "0"], "mailvault: --accounts is at least 1"],
    [["drill", "-s", "mail1", "--at", "yesterday"], "mailvault: --at is latest or random, not yesterday"],
    [["drill", "-s", "mail1", "--accounts", "2", "-a", "alice@example.com"], "mailvault: choose --accounts N (at random) or -a <names> (these), not both"],
    [["drill", "-s", "mail9"], "mailvault: unknown server: mail9"],
    [["restore", "-s", "mail1", "--undo", "restore-20990101.000000.000", "-a", "alice@example.com"], "mailvault: --undo takes its accounts and points from the restore it undoes: leave out --account"],
    [["restore", "-s", "mail1", "--undo", "restore-20990101.000000.000"], "mailvault: no restore run restore-20990101.000000.000"],
    [["backup", "-s", "mail1", "--del", "7d", "--exclude-blobs"], "mailvault: -del deletes sessions; do not combine it with -f, -i or --exclude-blobs"],
    [["repo", "attach", "/nonexistent/mail1"], "mailvault: /nonexistent/mail1 is not a Mailvault backup target (it has no target.json)"],
    [["repo", "attach", "relative/path"], "mailvault: a target is an absolute folder path or an s3://bucket/prefix URL"],
    [["servers", "set", "mail1", "redoShipSeconds=-1"], "mailvault: redoShipSeconds is at least 0"],
    [["servers", "set", "mail1", "color=blue"], "mailvault: color is not a setting servers set changes; settable: reportTo, lmtpHost, lmtpPort, workerConcurrency, minFreeBytes, minFreePercent, redoShipSeconds, rpoAlertSeconds, undoLeaseDays"],
    [["servers", "set", "mail1", "reportTo=ops@example.com,not-an-address"], "mailvault: reportTo.1: Invalid email address"],
    [["servers", "set", "mail1", "lmtpPort=0x10"], "mailvault: lmtpPort is a whole number"],
    [["servers", "set", "mail9", "lmtpHost=0.0.0.0"], "mailvault: unknown server: mail9"],
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

  it("encrypts an empty target once, manages its passphrases, and refuses mistakes in one line", { timeout: 400_000 }, async () => {
    const pass = { MAILVAULT_TARGET_PASSPHRASE: "correct horse battery staple" };
    const line = async (extra: Record<string, string>, ...args: string[]) => {
      const r = await mailvaultWith(extra, ...args);
      return [r.code, r.stderr.trim()];
    };
    expect(await line(pass, "repo", "init", "-s", "mail2")).toEqual([1, "mailvault: a target is set up unencrypted by its first backup: repo init is for --encrypt"]);
    expect(await line({ MAILVAULT_TARGET_PASSPHRASE: "short" }, "repo", "init", "-s", "mail2", "--encrypt")).toEqual([1, "mailvault: a target passphrase has at least 12 characters"]);
    const init = await mailvaultWith(pass, "repo", "init", "-s", "mail2", "--encrypt");
    expect(init.code).toBe(0);
    expect(init.stdout).toMatch(/: encrypted \(AES-256-GCM\), key [0-9a-f]{16}/);
    expect(await line(pass, "repo", "init", "-s", "mail2", "--encrypt")).toEqual([1, expect.stringMatching(/^mailvault: .* already holds keys\/[0-9a-f]{16}: encryption is chosen when a target is created, before its first backup$/)]);
    expect(await line(pass, "repo", "key", "add", "-s", "mail2")).toEqual([1, "mailvault: give the new passphrase in MAILVAULT_NEW_TARGET_PASSPHRASE or with --new-passphrase-file <file>"]);
    expect(await line({ MAILVAULT_TARGET_PASSPHRASE: "not the right passphrase", MAILVAULT_NEW_TARGET_PASSPHRASE: "a second good passphrase" }, "repo", "key", "add", "-s", "mail2")).toEqual([
      1,
      expect.stringMatching(/^mailvault: wrong passphrase: no key of .* opens with the one in MAILVAULT_TARGET_PASSPHRASE$/),
    ]);
    expect((await mailvaultWith({ ...pass, MAILVAULT_NEW_TARGET_PASSPHRASE: "a second good passphrase" }, "repo", "key", "add", "-s", "mail2")).code).toBe(0);
    const keys = JSON.parse((await mailvault("repo", "key", "list", "-s", "mail2", "--json")).stdout) as { id: string }[];
    expect(keys).toHaveLength(2);
    expect((await mailvaultWith(pass, "repo", "key", "remove", "-s", "mail2", keys[1]!.id)).code).toBe(0);
    expect(await line(pass, "repo", "key", "remove", "-s", "mail2", keys[0]!.id)).toEqual([1, expect.stringMatching(/is the last key of .*: add another passphrase first/)]);

    const { prisma } = await import("../server/db/console-db.ts");
    const entries = await prisma().auditEntry.findMany({ where: { action: { startsWith: "target." } }, orderBy: { id: "asc" } });
    expect(entries.map((e) => [e.action, e.outcome])).toEqual([
      ["target.encrypt", "refused"],
      ["target.encrypt", "refused"],
      ["target.encrypt", "ok"],
      ["target.encrypt", "refused"],
      ["target.key.add", "refused"],
      ["target.key.add", "refused"],
      ["target.key.add", "ok"],
      ["target.key.remove", "ok"],
      ["target.key.remove", "refused"],
    ]);
    expect(JSON.stringify(entries.map((e) => e.params))).not.toMatch(/horse|second good/);
  });

  it("lists a server's targets, and adds and removes a copy target", async () => {
    const listed = await mailvault("targets", "-s", "mail1", "--json");
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).map((t: { name: string; role: string; kind: string }) => [t.name, t.role, t.kind])).toEqual([
      ["primary", "primary", "folder"],
      ["offsite", "copy", "folder"],
    ]);
    const added = await mailvault("targets", "add", "-s", "mail1", "cloud", "s3://mailvault-backups/mail1?endpoint=http://127.0.0.1:9000&pathStyle=1");
    expect(added).toMatchObject({ code: 0, stdout: "mail1 copies to: offsite (" + `${env.dataDir}/offsite/mail1), cloud (s3://mailvault-backups/mail1)\n` });
    const table = await mailvault("targets", "-s", "mail1");
    expect(table.stdout).toMatch(/^cloud +copy +s3 +s3:\/\/mailvault-backups\/mail1 /m);
    expect((await mailvault("targets", "remove", "-s", "mail1", "cloud")).stdout).toBe("mail1 copies to: offsite\n");
  });

  it("changes a server's report recipients and LMTP address with servers set", async () => {
    const set = await mailvault("servers", "set", "mail2", "reportTo=ops@example.com, oncall@example.com", "lmtpHost=0.0.0.0");
    expect(set).toMatchObject({ code: 0, stdout: "mail2: reportTo=ops@example.com,oncall@example.com lmtpHost=0.0.0.0\n" });
    const shown = JSON.parse((await mailvault("servers", "mail2", "--json")).stdout);
    expect(shown.settings).toMatchObject({ reportTo: ["ops@example.com", "oncall@example.com"], lmtpHost: "0.0.0.0" });
    expect((await mailvault("servers", "set", "mail2", "reportTo=")).stdout).toBe("mail2: reportTo=\n");
  });

  it("prints a schedule as the commands that recreate it (--save), and those commands do", { timeout: 120_000 }, async () => {
    const set = await mailvault("schedulebackup", "-s", "mail2", "-R", "a", "0 1 * * *", "f", "0 2 1 * *", "d", "4w", "0 0 * * *", "--tz", "Europe/Berlin");
    expect(set.code).toBe(0);
    expect((await mailvault("schedulebackup", "-s", "mail2", "-A", "v", "3", "30 5 * * *", "c", "offsite", "0 3 * * *")).code).not.toBe(0); // mail2 has no copy target
    expect((await mailvault("schedulebackup", "-s", "mail2", "-A", "v", "3", "30 5 * * *", "--tz", "UTC")).code).toBe(0);
    const entries = async () => (JSON.parse((await mailvault("schedulebackup", "-s", "mail2", "-q", "--json")).stdout) as { entries: { text: string; tz: string }[] }).entries.map((e) => [e.text, e.tz]);
    const before = await entries();
    expect(before).toHaveLength(4);

    const saved = await mailvault("schedulebackup", "-s", "mail2", "--save");
    expect(saved.stdout).toBe(
      './bin/mailvault schedulebackup -s mail2 -R a "0 1 * * *" f "0 2 1 * *" d 4w "0 0 * * *" --tz Europe/Berlin\n' +
        './bin/mailvault schedulebackup -s mail2 -A v 3 "30 5 * * *" --tz UTC\n',
    );
    expect((await mailvault("schedulebackup", "-s", "mail2", "--clear")).code).toBe(0);
    expect(await entries()).toEqual([]);
    await promisify(execFile)("bash", ["-e", "-c", saved.stdout]);
    expect(await entries()).toEqual(before);

    await mailvault("schedulebackup", "-s", "mail2", "--clear");
    expect((await mailvault("schedulebackup", "-s", "mail2", "--save")).stdout).toBe("./bin/mailvault schedulebackup -s mail2 --clear\n");
    expect(await mailvault("schedulebackup", "-s", "mail2", "--save", "--tz", "UTC")).toMatchObject({ code: 1, stderr: "mailvault: --tz goes with -R, -A or -D\n" });
  });

  it("exits 3 from health when no worker runs", async () => {
    const { code, stdout } = await mailvault("health");
    expect(code).toBe(3);
    expect(stdout).toMatch(/DOWN\s+mail1/);
  });
});
