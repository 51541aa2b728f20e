/**
 * Restore options and disaster recovery, end to end with real workers: a reused name restores
 * the account that had it at the time; -rf, -br, --skipDeletes and --restoreToIncrLabel each
 * give the documented result; a removed redo segment is refused with the gap and changes
 * nothing; an in-place restore; and a dropped mailbox group rebuilt with no committed operation
 * lost.
 */
import { execFile } from "node:child_process";
import { readdir, rename } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { startWorkers } from "../../workers/start-workers.ts";
import { submitBackup } from "../backup/submit-backup.ts";
import { prisma } from "../db/console-db.ts";
import { generateTraffic } from "../demo/generate-traffic.ts";
import { createAccount, deleteAccount, renameAccount } from "../mailstore/account-operations.ts";
import { deliverMessage } from "../mailstore/deliver-message.ts";
import { deleteItems, emptyFolder, moveItems } from "../mailstore/item-operations.ts";
import { TRASH } from "../mailstore/items.ts";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { archiveRedo } from "../redo/archive-redo.ts";
import { readRedo } from "../redo/read-redo.ts";
import { useMailServer } from "../testing/mail-server-fixture.ts";
import { restoresSettled } from "../testing/wait-for-runs.ts";
import { exportMailbox, type CanonicalExport } from "./export-mailbox.ts";
import { submitRestore, type RestoreInput } from "./submit-restore.ts";

const fx = useMailServer({ accounts: { prefix: "opt", count: 6 }, traffic: { ops: 200, seed: 4 }, workers: startWorkers });
let store: Mailstore;
beforeAll(() => void (store = fx.store));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(probe: () => Promise<T | null | undefined | false>, what: string, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(100);
  }
}

async function backup(type: "full" | "incremental"): Promise<string> {
  // A restore queues a full backup of what it restored: let it finish first.
  await restoresSettled();
  const { label } = await submitBackup({ server: "mail1", type, accounts: type === "full" ? "all" : undefined });
  const s = await waitFor(async () => {
    const row = await prisma().backupSession.findFirstOrThrow({ where: { label } });
    return !["queued", "running"].includes(row.status) && row;
  }, label);
  expect(s.status, s.error ?? "").toBe("completed");
  return label;
}

async function restore(input: Partial<RestoreInput>) {
  const submitted = await submitRestore({ server: "mail1", requestedBy: "test", ...input } as RestoreInput);
  if (submitted.dryRun) return { plan: submitted.plan, run: null };
  const run = await waitFor(async () => {
    const row = await prisma().restoreRun.findUniqueOrThrow({ where: { id: submitted.runId } });
    return !["queued", "running", "failing"].includes(row.status) && row;
  }, submitted.label);
  expect(run.status, run.error ?? "").toBe("completed");
  return { plan: submitted.plan, run };
}

const exportOf = async (email: string): Promise<CanonicalExport> => {
  const { rows } = await store.pool.query("SELECT account_id FROM mailstore.mailbox WHERE email = $1", [email]);
  return exportMailbox(store, { accountId: rows[0].account_id });
};

const mime = (subject: string) => Buffer.from(`From: x@example.net\r\nSubject: ${subject}\r\n\r\n${subject} body\r\n`);

describe("restore options", () => {
  it("-rf, -br, --restoreToIncrLabel and --skipDeletes each give the documented result", async () => {
    const email = "opt1@example.com";
    const atFull = await exportOf(email);
    await backup("full");
    await generateTraffic(store, { ops: 60, seed: 11, renames: false, concurrency: 1 });
    await deliverMessage(store, { recipients: [email], bytes: mime("keep me in incr") });
    const atIncr = await exportOf(email);
    const incr = await backup("incremental");

    // Deletions after the incremental: a hard delete, a move into Trash, and emptying Trash.
    const { rows } = await store.pool.query("SELECT account_id, group_id, id FROM mailstore.mailbox WHERE email = $1", [email]);
    const ref = { accountId: rows[0].account_id };
    const d1 = await deliverMessage(store, { recipients: [email], bytes: mime("deleted later") });
    const d2 = await deliverMessage(store, { recipients: [email], bytes: mime("trashed later") });
    const beforeDeletes = await exportOf(email);
    await deleteItems(store, ref, { itemIds: [d1.delivered[0]!.itemId] });
    await moveItems(store, ref, { itemIds: [d2.delivered[0]!.itemId], folderId: TRASH });
    await emptyFolder(store, ref, { folderId: TRASH });
    const latest = await exportOf(email);
    expect(latest.messages.length).toBeLessThan(beforeDeletes.messages.length);

    // First: every restore queues a full backup of its copy, which moves later redo into a session.
    const br = await restore({ accounts: [email], backupOnlyRedo: true, copy: true, prefix: "br_" });
    expect(br.plan.warnings.some((w) => w.includes("-br replays only backed-up redo"))).toBe(true);
    expect(await exportOf(`br_${email}`)).toEqual(atIncr);

    await restore({ accounts: [email], noRedo: true, copy: true, prefix: "rf_" });
    expect(await exportOf(`rf_${email}`)).toEqual(atFull);

    await restore({ accounts: [email], restoreToIncrLabel: incr, copy: true, prefix: "incr_" });
    expect(await exportOf(`incr_${email}`)).toEqual(atIncr);

    await restore({ accounts: [email], copy: true, prefix: "all_" });
    expect(await exportOf(`all_${email}`)).toEqual(latest);
    // The copy's directory entry names the account it copies (the Accounts list's "copy of" badge).
    const original = await prisma().account.findFirstOrThrow({ where: { email, deletedAt: null } });
    expect((await prisma().account.findFirstOrThrow({ where: { email: `all_${email}` } })).copyOf).toBe(original.id);

    const skip = await restore({ accounts: [email], skipDeletes: true, copy: true, prefix: "skip_" });
    expect(skip.plan.options.map((o) => o.name)).toContain("--skipDeletes");
    const kept = await exportOf(`skip_${email}`);
    for (const subject of ["deleted later", "trashed later"]) {
      expect(kept.messages.some((m) => m.endsWith(`|${subject}`) && !m.startsWith("/Trash|"))).toBe(true);
      expect(latest.messages.some((m) => m.endsWith(`|${subject}`))).toBe(false);
    }
  });

  it("restores the account that had a reused name at the time asked for", async () => {
    const old = (await prisma().account.findFirstOrThrow({ where: { email: "opt2@example.com" } })).id;
    const before = await exportOf("opt2@example.com");
    await backup("incremental");
    await sleep(20);
    const point = new Date();
    await sleep(20);
    await renameAccount(store, { accountId: old, newEmail: "opt2.renamed@example.com" });
    const newcomer = await createAccount(store, { email: "opt2@example.com" });
    await deliverMessage(store, { recipients: ["opt2@example.com"], bytes: mime("for the newcomer") });
    await backup("incremental"); // the newcomer gets its full here

    const thenPlan = (await restore({ accounts: ["opt2@example.com"], restoreToTime: point.toISOString(), copy: true, prefix: "then_" })).plan;
    expect(thenPlan.accounts[0]!.accountId).toBe(old);
    expect(thenPlan.accounts[0]!.chosenBecause).toMatch(/belonged to 2 accounts over time/);
    expect(await exportOf("then_opt2@example.com")).toEqual(before);

    const nowPlan = (await restore({ accounts: ["opt2@example.com"], copy: true, prefix: "now_" })).plan;
    expect(nowPlan.accounts[0]!.accountId).toBe(newcomer.accountId);
    expect((await exportOf("now_opt2@example.com")).messages.some((m) => m.endsWith("|for the newcomer"))).toBe(true);
  });

  it("restores in place: the account's own mailbox, back to the point, active again", async () => {
    const email = "opt3@example.com";
    const { rows } = await store.pool.query("SELECT last_redo_seq FROM mailstore.mailbox WHERE email = $1", [email]);
    const point = await exportOf(email);
    await generateTraffic(store, { ops: 40, seed: 21, renames: false, concurrency: 1 });
    await deliverMessage(store, { recipients: [email], bytes: mime("after the point") });
    await restore({ accounts: [email], restoreToRedoSeq: rows[0].last_redo_seq });
    expect(await exportOf(email)).toEqual(point);
    expect((await prisma().account.findFirstOrThrow({ where: { email } })).status).toBe("active");
    const { rows: box } = await store.pool.query("SELECT account_id, last_redo_seq FROM mailstore.mailbox WHERE email = $1", [email]);
    const marker = [];
    for await (const r of readRedo(store, { accountIds: [box[0].account_id], fromSeq: box[0].last_redo_seq, toSeq: box[0].last_redo_seq })) marker.push(r.op);
    expect(marker).toEqual(["RestoreMailbox"]);
  });

  it("restores a deleted account into a copy, as it was before the deletion", async () => {
    const email = "opt4@example.com";
    const before = await exportOf(email);
    const id = (await prisma().account.findFirstOrThrow({ where: { email } })).id;
    await deleteAccount(store, { accountId: id });
    const { plan } = await restore({ accounts: [email], copy: true, prefix: "undel_" });
    expect(plan.accounts[0]).toMatchObject({ deleted: true, redo: { stopBeforeDeletion: true } });
    expect(await exportOf(`undel_${email}`)).toEqual(before);
  });

  it("refuses a removed redo segment with the gap, and changes nothing", async () => {
    // A follow-up backup of an earlier restore would move the segments into a session meanwhile.
    await restoresSettled();
    await generateTraffic(store, { ops: 60, seed: 31, renames: false, concurrency: 1 });
    for (let i = 0; i < 3; i++) {
      await deliverMessage(store, { recipients: ["opt5@example.com"], bytes: mime(`segment ${i}`) });
      await archiveRedo(store, { force: true, maxBytes: 1, maxAgeSeconds: 1 });
    }
    const segments = (await readdir(store.redoArchivePath)).filter((n) => n.startsWith("redo-")).sort();
    const middle = segments.at(-2)!;
    const runsBefore = await prisma().restoreRun.count();
    const accountsBefore = await prisma().account.count();
    await rename(path.join(store.redoArchivePath, middle), path.join(fx.env.dataDir, middle));
    try {
      await expect(submitRestore({ server: "mail1", accounts: ["opt5@example.com"], copy: true, prefix: "gap_" })).rejects.toThrow(/gap in redo sequence: missing \d+ through \d+/);
      expect(await prisma().restoreRun.count()).toBe(runsBefore);
      expect(await prisma().account.count()).toBe(accountsBefore);
      const around = await submitRestore({ server: "mail1", accounts: ["opt5@example.com"], copy: true, prefix: "gap_", ignoreRedoErrors: true, dryRun: true });
      expect(around.plan.warnings.some((w) => /gap in redo sequence: missing \d+ through \d+; replayed around it/.test(w))).toBe(true);
    } finally {
      await rename(path.join(fx.env.dataDir, middle), path.join(store.redoArchivePath, middle));
    }
  });

  it("prints the plan from the CLI with Zimbra's flags and refuses contradictions in one line", async () => {
    const run = promisify(execFile);
    const { stdout } = await run("./bin/mailvault", ["restore", "-s", "mail1", "-a", "opt0@example.com", "-ca", "-pre", "restore_", "--plan"], { env: process.env });
    expect(stdout).toContain("opt0@example.com -> restore_opt0@example.com (copy)");
    expect(stdout).toContain("option  -ca -pre restore_: restores into new accounts named with the prefix");
    const refused = await run("./bin/mailvault", ["restore", "-s", "mail1", "-a", "opt0@example.com", "-ca"], { env: process.env }).catch((e) => e);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toBe("mailvault: -ca (restore into a copy) needs -pre <prefix> to name the copy");
  });
});

describe("mailbox group disaster recovery", () => {
  it("rebuilds a dropped group's mailboxes with no committed operation lost", async () => {
    await backup("incremental");
    await generateTraffic(store, { ops: 80, seed: 41, renames: false, concurrency: 2 });
    await archiveRedo(store, { force: true, maxBytes: 1, maxAgeSeconds: 1 });
    await generateTraffic(store, { ops: 40, seed: 42, renames: false, concurrency: 2 });
    const { rows } = await store.pool.query("SELECT group_id, count(*)::int AS n FROM mailstore.mailbox WHERE email LIKE 'opt%' GROUP BY group_id ORDER BY n DESC LIMIT 1");
    const group = rows[0].group_id as number;
    const { rows: members } = await store.pool.query("SELECT email FROM mailstore.mailbox WHERE group_id = $1 ORDER BY email", [group]);
    const before = await Promise.all(members.map((m) => exportOf(m.email)));

    await store.pool.query(`DROP SCHEMA mboxgroup${group} CASCADE`); // the disaster of seed 000
    const { plan, run } = await restore({ group });
    expect(plan.accounts.map((a) => a.target.mode)).toEqual(members.map(() => "in-place"));
    expect(run!.status).toBe("completed");
    const after = await Promise.all(members.map((m) => exportOf(m.email)));
    expect(after).toEqual(before);
  });
});
