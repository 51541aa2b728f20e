/**
 * Damage is named where a person can act on it: a restore from a session whose items dump or
 * redo segment has a flipped byte says which session, account and file (and to run verify), and
 * `check` reports a mailbox that was emptied, system folders and all, and exits non-zero.
 */
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { startWorkers } from "../../workers/start-workers.ts";
import { BackupTarget } from "../backup/target.ts";
import { querySessions } from "../backup/query-sessions.ts";
import { verifyServerBackups, verifySession } from "../backup/verify-session.ts";
import { prisma } from "../db/console-db.ts";
import { generateTraffic } from "../demo/generate-traffic.ts";
import { getServer } from "../directory/list-servers.ts";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { groupSchema } from "../mailstore/schema.ts";
import { useMailServer } from "../testing/mail-server-fixture.ts";
import { backupsSettled, runBackup, waitFor } from "../testing/wait-for-runs.ts";
import { checkMailbox } from "./check-mailbox.ts";
import { submitRestore } from "./submit-restore.ts";

const fx = useMailServer({ randomLmtpPorts: true, accounts: { prefix: "dmg", count: 3 }, traffic: { ops: 150, seed: 11 }, workers: startWorkers });
let store: Mailstore;
let target: BackupTarget;
let full: string;
let incremental: string;

const accountIdOf = async (email: string): Promise<string> => (await store.pool.query("SELECT account_id FROM mailstore.mailbox WHERE email = $1", [email])).rows[0].account_id;

/** Flips one byte in the middle of a file for the duration of `work`. */
async function withFlippedByte<T>(file: string, work: () => Promise<T>): Promise<T> {
  const original = await readFile(file);
  const damaged = Buffer.from(original);
  const at = Math.floor(original.length / 2);
  damaged[at] = damaged[at]! ^ 0x5a;
  await writeFile(file, damaged);
  try {
    return await work();
  } finally {
    await writeFile(file, original);
  }
}

/** Restores one account into a prefixed copy and returns the run as it ended. */
async function restoreCopy(email: string) {
  const submitted = await submitRestore({ server: "mail1", accounts: [email], copy: true, prefix: "dmg_", requestedBy: "test" });
  if (submitted.dryRun) throw new Error("expected a run");
  const run = await waitFor(async () => {
    const r = await prisma().restoreRun.findUniqueOrThrow({ where: { id: submitted.runId } });
    return !["queued", "running", "failing"].includes(r.status) && r;
  }, submitted.label);
  await backupsSettled();
  return run;
}

beforeAll(async () => {
  store = fx.store;
  target = new BackupTarget((await getServer("mail1")).backupTarget, "mail1");
  full = (await runBackup("mail1", "full")).label;
  await generateTraffic(store, { ops: 80, seed: 12, renames: false, concurrency: 2 });
  incremental = (await runBackup("mail1", "incremental")).label;
}, 120_000);

describe("a restore from a damaged session", () => {
  it("names the session, account and file of a damaged items dump, and says to run verify", async () => {
    const email = "dmg0@example.com";
    const accountId = await accountIdOf(email);
    // The dump is a shared object (dumps/ab/<sha256>) the session's manifest names.
    const relative = `accounts/${accountId}/items.copy.gz`;
    const file = path.join(target.root, await target.sessionFileObject(full, relative));
    const run = await withFlippedByte(file, () => restoreCopy(email));
    expect(run.status).toBe("failed");
    // The run's summary wraps each account's reason; the reason is the part this test is about.
    expect(run.error).toContain(`session ${full}, account ${email} (${accountId}): ${file} (${relative} of ${full}) is damaged: `);
    expect(run.error).toMatch(new RegExp(`items\\.copy\\.gz of ${full}\\) is damaged: [^;]+; run verify -lb ${full}`));
    expect((await prisma().account.findFirst({ where: { email: `dmg_${email}` } })) === null).toBe(true);
  });

  it("names a damaged redo segment by its path in the target, in the restore and in verify", async () => {
    const { file, shown } = await firstSegment();
    const { run, report } = await withFlippedByte(file, async () => ({ run: await restoreCopy("dmg1@example.com"), report: await verifySession(target, incremental) }));
    expect(run.status).toBe("failed");
    expect(run.error).toContain(`session ${incremental}: ${file} is damaged: `);
    expect(run.error).toMatch(new RegExp(`\\.log is damaged: [^;]*(checksum|implausible|digest)[^;]*\\(at byte \\d+\\); run verify -lb ${incremental}`));
    expect(report.ok).toBe(false);
    expect(report.problems).toContainEqual(expect.objectContaining({ kind: "redo", path: shown }));
  });
});

/**
 * The incremental's first redo segment: its file, and the path verify names it by. With redo
 * shipping on (the default) it is the shipped segment the session names (redo/<name>), else
 * the session's own (redologs/<name>).
 */
async function firstSegment(): Promise<{ file: string; shown: string }> {
  const [segment] = await target.sessionSegments(incremental);
  expect(segment).toBeDefined();
  return { file: path.join(target.root, segment!.object), shown: segment!.object.startsWith("sessions/") ? `redologs/${segment!.name}` : segment!.object };
}

describe("a session that failed verify", () => {
  it("keeps the result with the session, and the plan warns before using it; a sound verify clears it", async () => {
    const { file, shown } = await firstSegment();
    await withFlippedByte(file, () => verifyServerBackups("mail1", { newest: 1 }));
    const [listed] = (await querySessions({ server: "mail1", label: incremental })).sessions;
    expect(listed!.verify).toMatchObject({ ok: false, first: expect.stringContaining(shown) });
    const plan = await submitRestore({ server: "mail1", accounts: ["dmg1@example.com"], copy: true, prefix: "plan_", requestedBy: "test", dryRun: true });
    if (!plan.dryRun) throw new Error("expected a plan");
    const warning = plan.plan.warnings.find((w) => w.startsWith(`${incremental} failed its last verify (`));
    expect(warning).toContain(`UTC: ${shown}`);
    expect(warning).toContain("the restore may fail on it; verify it again, or choose a point that does not need it");

    // The byte is back: verify again, and the session is sound and the warning gone.
    const [again] = await verifyServerBackups("mail1", { label: incremental });
    expect(again!.ok).toBe(true);
    expect((await querySessions({ server: "mail1", label: incremental })).sessions[0]!.verify).toMatchObject({ ok: true, problems: 0 });
    const clean = await submitRestore({ server: "mail1", accounts: ["dmg1@example.com"], copy: true, prefix: "plan_", requestedBy: "test", dryRun: true });
    if (!clean.dryRun) throw new Error("expected a plan");
    expect(clean.plan.warnings.some((w) => w.includes("failed its last verify"))).toBe(false);
  });
});

describe("check", () => {
  it("reports a mailbox emptied of every item, system folders included, and the CLI exits 1", async () => {
    const email = "dmg2@example.com";
    expect(await checkMailbox(store, email)).toMatchObject({ ok: true, problems: [] });
    const box = (await store.pool.query("SELECT id, group_id FROM mailstore.mailbox WHERE email = $1", [email])).rows[0];
    await store.pool.query(`DELETE FROM ${groupSchema(box.group_id)}.item WHERE mailbox_id = $1`, [box.id]);

    const report = await checkMailbox(store, email);
    expect(report.ok).toBe(false);
    expect(report.items).toBe(0);
    const missing = report.problems.filter((p) => p.kind === "system-folder");
    expect(missing.map((p) => p.message)).toEqual(expect.arrayContaining(["system folder root (1) is missing", "system folder Inbox (2) is missing"]));

    const cli = await promisify(execFile)("./bin/mailvault", ["check", "-s", "mail1", "-a", email], { env: process.env }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(cli.code).toBe(1);
    expect(cli.stdout).toContain(`${email}: ${report.problems.length} problem(s)`);
    expect(cli.stdout).toContain("  system-folder: system folder Inbox (2) is missing");
    expect(cli.stdout).toContain("1 mailbox(es) checked, 1 with problems");
  });
});
