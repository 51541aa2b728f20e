/**
 * Restore drills with real workers: a drill of every account at random points and one at the
 * latest state pass, keep their evidence and leave nothing behind (no scratch mailbox, no
 * account, the live mailboxes as they were); a byte flipped in a pack and a redo segment removed
 * from the target each fail the drill, naming the account and what differs; bad requests are
 * refused and change nothing; a scheduled `r` entry submits a drill.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { startWorkers } from "../../workers/start-workers.ts";
import { BackupTarget } from "../backup/target.ts";
import { consolePool, prisma } from "../db/console-db.ts";
import { getServer } from "../directory/list-servers.ts";
import { createAccount, renameAccount } from "../mailstore/account-operations.ts";
import { createContact } from "../mailstore/contact-operations.ts";
import { deliverMessage } from "../mailstore/deliver-message.ts";
import { createFolder } from "../mailstore/folder-operations.ts";
import { deleteItems, setFlags, tagItems } from "../mailstore/item-operations.ts";
import { INBOX } from "../mailstore/items.ts";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { exportMailbox } from "../restore/export-mailbox.ts";
import { flipByteInBlob } from "../testing/damage-target.ts";
import { useMailServer } from "../testing/mail-server-fixture.ts";
import { runBackup, waitFor } from "../testing/wait-for-runs.ts";
import { SCRATCH_DOMAIN } from "./run-drill.ts";
import { getDrill, submitDrill, type DrillView } from "./submit-drill.ts";

const fx = useMailServer({ workers: startWorkers });
let store: Mailstore;
beforeAll(() => void (store = fx.store));

const mime = (subject: string) => Buffer.from(`From: boss@example.net\r\nSubject: ${subject}\r\n\r\n${subject} body ${"x".repeat(2000)}\r\n`);
const deliver = async (to: string, subject: string, folderId?: number) => (await deliverMessage(store, { recipients: [to], bytes: mime(subject), folderId })).delivered[0]!.itemId;

async function drill(input: Parameters<typeof submitDrill>[0]): Promise<DrillView> {
  const { label } = await submitDrill({ requestedBy: "test", ...input });
  return waitFor(async () => {
    const d = await getDrill(label);
    return ["passed", "failed", "error", "interrupted"].includes(d.status) && d;
  }, label, 180_000);
}

async function leftovers() {
  const { rows } = await store.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM mailstore.mailbox WHERE email LIKE $1", [`%@${SCRATCH_DOMAIN}`]);
  return rows[0]!.n;
}

const EMAILS = ["alice@example.com", "bob@example.com", "carol@example.com"];
let fullLabel = "";
let incrLabel = "";

describe("restore drills", () => {
  it("passes on intact backups at random points and at the latest state, keeps the evidence and leaves nothing behind", { timeout: 400_000 }, async () => {
    for (const email of EMAILS) {
      const { accountId } = await createAccount(store, { email });
      const ref = { accountId };
      const { itemId: projects } = await createFolder(store, ref, { name: "Projects", parentId: INBOX });
      const ids = [];
      for (let i = 0; i < 6; i++) ids.push(await deliver(email, `${email} message ${i}`, i % 2 ? projects : undefined));
      await setFlags(store, ref, { itemIds: [ids[0]!], flags: { flagged: true } });
      await createContact(store, ref, { fields: { email: "partner@example.net", firstName: "Pat" } });
      if (email === "carol@example.com") await renameAccount(store, { accountId, newEmail: "carol.new@example.com" });
    }
    fullLabel = (await runBackup("mail1", "full")).label;
    const alice = { email: "alice@example.com" };
    const later = await deliver("alice@example.com", "after the full");
    await tagItems(store, alice, { itemIds: [later], tag: "Later" });
    const random = await drill({ server: "mail1", accounts: 3, at: "random" });
    expect(random.status, random.summary ?? "").toBe("passed");
    expect(random.evidence).toHaveLength(3);
    expect(new Set(random.evidence.map((e) => e.email))).toEqual(new Set(["alice@example.com", "bob@example.com", "carol.new@example.com"]));
    for (const e of random.evidence) {
      expect(e).toMatchObject({ at: "random", identical: true, differences: [] });
      // Created in this test, each account's whole life is in the redo archive (a server's first
      // session holds no redo, and no later session yet starts a chain the replay would have to join):
      // the second path is a replay from its creation.
      expect(e.expected, e.note).toMatch(/^an independent replay of its whole life from redo alone/);
      expect(e.plan.full).toBe(fullLabel); // the first path starts from the full, the second from the creation
      expect(e.point.seq).toBeGreaterThan(0);
      expect(e.restoreMs).toBeGreaterThan(0);
    }
    expect(random.summary).toMatch(/^3 account\(s\) restored identical to the expected state; RTO \d+\.\d\d s per MiB$/);
    expect(random.rtoSecondsPerMib).toBeGreaterThan(0);

    incrLabel = (await runBackup("mail1", "incremental")).label;
    await deliver("bob@example.com", "only in the current log");
    await deleteItems(store, alice, { itemIds: [later] });
    const { rows: boxes } = await store.pool.query<{ account_id: string }>("SELECT account_id FROM mailstore.mailbox ORDER BY id");
    const before = await Promise.all(boxes.map((b) => exportMailbox(store, { accountId: b.account_id })));
    const accountsBefore = await prisma().account.findMany({ select: { id: true, email: true, status: true }, orderBy: { id: "asc" } });

    const latest = await drill({ server: "mail1", accounts: ["alice@example.com"], at: "latest" });
    expect(latest.status, latest.summary ?? "").toBe("passed");
    expect(latest.evidence[0]).toMatchObject({ email: "alice@example.com", identical: true, plan: { full: fullLabel, redoSessions: [incrLabel], currentLog: true } });
    expect(latest.evidence[0]!.expected).toMatch(/^the live mailbox, read in one snapshot at redo \d+$/);

    // Nothing left behind, nothing live touched.
    expect(await leftovers()).toBe(0);
    expect(await prisma().account.findMany({ select: { id: true, email: true, status: true }, orderBy: { id: "asc" } })).toEqual(accountsBefore);
    expect(await Promise.all(boxes.map((b) => exportMailbox(store, { accountId: b.account_id })))).toEqual(before);
  });

  it("fails on a byte flipped in a pack, naming the account and the damaged body", { timeout: 200_000 }, async () => {
    const target = new BackupTarget((await getServer("mail1")).backupTarget, "mail1");
    const { rows } = await consolePool().query<{ id: string }>("SELECT id FROM account WHERE email = 'bob@example.com'");
    const blob = (await target.readSessionFile(fullLabel, `accounts/${rows[0]!.id}/blobs.txt`)).toString("utf8").split("\n")[0]!;
    const damage = await flipByteInBlob(target, blob);
    try {
      const failed = await drill({ server: "mail1", accounts: ["bob@example.com"], at: "latest" });
      expect(failed.status).toBe("failed");
      expect(failed.evidence[0]).toMatchObject({ email: "bob@example.com", identical: false });
      expect(failed.evidence[0]!.differences.join("\n")).toContain(`${fullLabel}'s copy of message body ${blob.slice(0, 12)}…`);
      expect(failed.summary).toMatch(/^bob@example\.com: /);
      const { rows: mails } = await consolePool().query("SELECT status FROM report_outbox WHERE kind = 'drill' AND label = $1", [failed.label]);
      expect(mails).toEqual([{ status: "failed" }]);
    } finally {
      await damage.restore();
    }
    expect(await leftovers()).toBe(0);
  });

  it("fails when a redo segment the restore needs is gone from the target, naming the account", { timeout: 200_000 }, async () => {
    const target = new BackupTarget((await getServer("mail1")).backupTarget, "mail1");
    const segments = await target.sessionSegments(incrLabel);
    expect(segments.length).toBeGreaterThan(0);
    // The incremental's segments as the session holds them and as they were shipped: every copy goes.
    const files = segments.flatMap((s) => [path.join(target.root, "sessions", incrLabel, "redologs", s.name), path.join(target.root, "redo", s.name)]);
    const saved = await Promise.all(files.map((f) => readFile(f).catch(() => null)));
    expect(saved.some(Boolean)).toBe(true);
    await Promise.all(files.map((f) => rm(f, { force: true })));
    try {
      const failed = await drill({ server: "mail1", accounts: ["alice@example.com"], at: "latest" });
      expect(failed.status).toBe("failed");
      expect(failed.evidence[0]).toMatchObject({ email: "alice@example.com", identical: false });
      expect(failed.evidence[0]!.error).toBe(`the restore cannot run: ${incrLabel}'s redo segment ${segments[0]!.name} is missing from the backup target`);
      expect(failed.summary).toMatch(new RegExp(`^alice@example\\.com: the restore cannot run: ${incrLabel}'s redo segment`));
    } finally {
      await Promise.all(files.map((f, i) => (saved[i] ? writeFile(f, saved[i]) : null)));
    }
    expect(await leftovers()).toBe(0);
  });

  it("after a drill's worker died: marks it interrupted at the next request, whose drill removes what it left", { timeout: 200_000 }, async () => {
    // What a drill killed mid-restore leaves: its row running with a stale heartbeat, and a scratch mailbox with rows.
    const dead = await prisma().restoreDrill.create({
      data: { label: "drill-20261201.000000.000", server: "mail1", status: "running", request: { accounts: 1, at: "latest" }, heartbeatAt: new Date(Date.now() - 5 * 60_000) },
    });
    const { rows } = await store.pool.query<{ id: number; group_id: number }>(
      `INSERT INTO mailstore.mailbox (id, account_id, group_id, email, email_at_creation, item_id_checkpoint, quota_bytes)
       SELECT id, gen_random_uuid(), (id - 1) % $2 + 1, $1, $1, 255, 0 FROM (SELECT nextval('mailstore.mailbox_id_seq') AS id) n RETURNING id, group_id`,
      [`${dead.label}-0a@${SCRATCH_DOMAIN}`, store.groups],
    );
    await store.pool.query(`INSERT INTO mboxgroup${rows[0]!.group_id}.item (mailbox_id, id, type, date, name, change_number) VALUES ($1, 1, 'folder', now(), 'USER_ROOT', 1)`, [rows[0]!.id]);
    expect(await leftovers()).toBe(1);

    const next = await drill({ server: "mail1", accounts: ["bob@example.com"], at: "latest" });
    expect(next.status, next.summary ?? "").toBe("passed");
    expect(await prisma().restoreDrill.findUniqueOrThrow({ where: { id: dead.id } })).toMatchObject({ status: "interrupted", summary: "its worker stopped before it ended (no heartbeat for a minute)" });
    expect(await leftovers()).toBe(0);
    const { rows: items } = await store.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM mboxgroup${rows[0]!.group_id}.item WHERE mailbox_id = $1`, [rows[0]!.id]);
    expect(items[0]!.n).toBe(0);
    // A drill still beating is not taken for dead: the next request is refused.
    const live = await prisma().restoreDrill.create({ data: { label: "drill-20261201.000001.000", server: "mail1", status: "running", request: { accounts: 1, at: "latest" } } });
    await expect(submitDrill({ server: "mail1", requestedBy: "test" })).rejects.toThrow(`${live.label} is still running on this server: wait for it, then drill again`);
    await prisma().restoreDrill.delete({ where: { id: live.id } });
  });

  it("refuses bad requests with a clear error and queues nothing", async () => {
    const count = await prisma().restoreDrill.count();
    await expect(submitDrill({ server: "mail9" })).rejects.toThrow("unknown server: mail9");
    await expect(submitDrill({ server: "mail1", accounts: 0 })).rejects.toThrow("a drill restores at least 1 account");
    await expect(submitDrill({ server: "mail1", accounts: ["nobody@example.com"] })).rejects.toThrow(/nobody@example\.com/);
    await expect(submitDrill({ server: "mail1", at: "yesterday" as "latest" })).rejects.toThrow("latest or random");
    expect(await prisma().restoreDrill.count()).toBe(count);
  });
});
