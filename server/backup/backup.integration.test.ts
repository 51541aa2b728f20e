/**
 * Backups end to end, against real PostgreSQL, Redis, BullMQ workers and a backup target folder:
 * a full's contents match the mailstore, a second full stores no new blob and names the dumps of
 * unchanged accounts (and only of those) without writing them, verify finds a damaged shared dump
 * and the next full mends it, an incremental holds
 * exactly the new redo range, a new account gets its full in the next incremental, and the
 * one-backup-at-a-time lock answers 409.
 */
import { createHash } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { to as copyTo } from "pg-copy-streams";
import { beforeAll, describe, expect, it } from "vitest";
import { startWorkers } from "../../workers/start-workers.ts";
import { prisma } from "../db/console-db.ts";
import { getServer } from "../directory/list-servers.ts";
import { createAccount } from "../mailstore/account-operations.ts";
import { setFlags } from "../mailstore/item-operations.ts";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { groupSchema } from "../mailstore/schema.ts";
import { readSegment } from "../redo/segment-format.ts";
import { useMailServer } from "../testing/mail-server-fixture.ts";
import { ITEM_COLUMNS } from "./earlier-dumps.ts";
import { submitBackup } from "./submit-backup.ts";
import { BackupTarget, type FileEntry } from "./target.ts";
import { verifyServerBackups } from "./verify-session.ts";

const fx = useMailServer({ accounts: { prefix: "user", count: 8 }, traffic: { ops: 400, seed: 3 }, workers: startWorkers, concurrency: 3, timeoutMs: 180_000 });
let store: Mailstore;
let target: BackupTarget;

async function waitForSession(label: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await prisma().backupSession.findFirstOrThrow({ where: { label } });
    if (!["queued", "running"].includes(s.status)) return s;
    if (Date.now() > deadline) throw new Error(`session ${label} still ${s.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function backup(type: "full" | "incremental", accounts?: "all" | string[]) {
  const submitted = await submitBackup({ server: "mail1", type, accounts, requestedBy: "test" });
  return waitForSession(submitted.label);
}

async function sessionJson(label: string) {
  return JSON.parse(await readFile(path.join(target.root, "sessions", label, "session.json"), "utf8"));
}

beforeAll(async () => {
  store = fx.store;
  const server = await getServer("mail1");
  target = new BackupTarget(server.backupTarget, "mail1");
});

describe("full backup", () => {
  let label: string;

  it("completes, and publishes the session by saving its commit object last", async () => {
    const session = await backup("full");
    expect(session.status).toBe("completed");
    label = session.label;
    expect(label).toMatch(/^full-\d{8}\.\d{6}\.\d{3}$/);
    expect(await target.sessions()).toEqual([{ label, published: true, legacy: false }]);
    expect(await readdir(path.join(target.root, "sessions"))).toEqual([label]);
    expect((await readdir(target.root)).sort()).not.toContain("tmp");
  });

  it("holds every account with counts and items that match the mailstore", async () => {
    const description = await sessionJson(label);
    const { rows: mailboxes } = await store.pool.query("SELECT * FROM mailstore.mailbox ORDER BY email");
    expect(description.accounts.map((a: { email: string }) => a.email).sort()).toEqual(mailboxes.map((m) => m.email));
    for (const mailbox of mailboxes) {
      const entry = description.accounts.find((a: { accountId: string }) => a.accountId === mailbox.account_id);
      const { rows: items } = await store.pool.query(`SELECT id, blob_digest FROM ${groupSchema(mailbox.group_id)}.item WHERE mailbox_id = $1 ORDER BY id`, [mailbox.id]);
      expect(entry).toMatchObject({ kind: "full", items: items.length, changeNumber: mailbox.change_number, lastRedoSeq: mailbox.last_redo_seq });
      const dumped = gunzipSync(await target.readSessionFile(label, `accounts/${mailbox.account_id}/items.copy.gz`)).toString().trim().split("\n");
      expect(dumped.map((line) => Number(line.split("\t")[1]))).toEqual(items.map((i) => i.id));
      for (const digest of new Set(items.map((i) => i.blob_digest).filter(Boolean))) {
        const bytes = await target.readBlob(digest);
        expect(createHash("sha256").update(bytes).digest("hex")).toBe(digest);
      }
      expect(mailbox.last_backup_at).not.toBeNull();
    }
  });

  it("lists every file in the manifest with its checksum, the accounts' files as objects named by it", async () => {
    const dir = path.join(target.root, "sessions", label);
    const manifest = JSON.parse(await readFile(path.join(dir, "manifest.json"), "utf8"));
    expect(manifest.files.length).toBeGreaterThan(10);
    for (const file of manifest.files) {
      const bytes = await readFile(file.object ? path.join(target.root, file.object) : path.join(dir, file.path));
      expect(createHash("sha256").update(bytes).digest("hex"), file.path).toBe(file.sha256);
      if (file.path.startsWith("accounts/")) expect(file.object, file.path).toBe(`dumps/${file.sha256.slice(0, 2)}/${file.sha256}`);
    }
    // The session's folder holds no account file of its own.
    expect(await readdir(dir)).not.toContain("accounts");
    const manifestSum = (await readFile(path.join(dir, "manifest.sha256"), "utf8")).split(" ")[0];
    expect(createHash("sha256").update(await readFile(path.join(dir, "manifest.json"))).digest("hex")).toBe(manifestSum);
  });

  it("stores no new blob and writes no account file when the data did not change", async () => {
    const before = await dumpObjects();
    const second = await backup("full");
    expect(second.status).toBe("completed");
    expect(second.blobsNew).toBe(0);
    expect(second.blobsReferenced).toBeGreaterThan(0);
    // Every account's files are the first full's objects, named again: nothing new under dumps/.
    expect(await dumpObjects()).toEqual(before);
    const [first, again] = [await manifest(label), await manifest(second.label)];
    const accountFiles = (m: Map<string, FileEntry>) => [...m.values()].filter((f) => f.path.startsWith("accounts/")).map((f) => `${f.path} ${f.object}`).sort();
    expect(accountFiles(again)).toEqual(accountFiles(first));
    const description = await sessionJson(second.label);
    expect(description.counts.dumpsShared).toBe(description.counts.fulls);
    label = second.label;
  });

  it("dumps again every account whose rows changed and names the others' earlier dumps", async () => {
    const { rows: mailboxes } = await store.pool.query("SELECT * FROM mailstore.mailbox WHERE change_number > 0 ORDER BY email");
    const [flagged, edited] = mailboxes;
    const itemOf = async (m: { group_id: number; id: number }) =>
      (await store.pool.query(`SELECT id FROM ${groupSchema(m.group_id)}.item WHERE mailbox_id = $1 AND type = 'message' ORDER BY id LIMIT 1`, [m.id])).rows[0].id;
    // A change through the mailstore, and a row edited behind its change numbers.
    await setFlags(store, { accountId: flagged.account_id }, { itemIds: [await itemOf(flagged)], flags: { flagged: true } });
    await store.pool.query(`UPDATE ${groupSchema(edited.group_id)}.item SET subject = 'edited by hand' WHERE mailbox_id = $1 AND id = $2`, [edited.id, await itemOf(edited)]);
    const third = await backup("full");
    expect(third.status).toBe("completed");
    const description = await sessionJson(third.label);
    const dumpsFrom = new Map(description.accounts.map((a: { accountId: string; dumpsFrom?: string }) => [a.accountId, a.dumpsFrom]));
    for (const changed of [flagged, edited]) expect(dumpsFrom.get(changed.account_id), changed.email).toBeUndefined();
    expect(description.counts.dumpsShared).toBe(description.counts.fulls - 2);
    // What a restore reads: every account's dump is its rows as they are now, shared or not.
    await expectDumpsMatch(third.label, mailboxes);
    expect(gunzipSync(await target.readSessionFile(third.label, `accounts/${edited.account_id}/items.copy.gz`)).toString()).toContain("edited by hand");
    label = third.label;
  });

  it("finds a damaged shared dump in every session that names it, and the next full mends it", async () => {
    const { rows: mailboxes } = await store.pool.query("SELECT * FROM mailstore.mailbox WHERE change_number > 0 ORDER BY email");
    const damaged = mailboxes.at(-1)!;
    const relative = `accounts/${damaged.account_id}/items.copy.gz`;
    const object = (await manifest(label)).get(relative)!.object!;
    const namedBy: string[] = [];
    for (const l of await target.publishedLabels()) if ((await manifest(l)).get(relative)?.object === object) namedBy.push(l);
    expect(namedBy.length).toBe(3);
    const file = path.join(target.root, object);
    const good = await readFile(file);
    await writeFile(file, Buffer.concat([good.subarray(0, -1), Buffer.from([good.at(-1)! ^ 1])]));
    const reports = await verifyServerBackups("mail1", {});
    for (const report of reports.filter((r) => namedBy.includes(r.label))) {
      expect(report.problems, report.label).toContainEqual({ kind: "file", path: `${relative} (${object})`, message: "checksum mismatch (content changed)" });
    }
    // The newest full failed verify: it lends nothing, so its accounts are dumped again.
    const fourth = await backup("full");
    expect(fourth.status).toBe("completed");
    expect((await sessionJson(fourth.label)).counts.dumpsShared).toBe(0);
    expect(await readFile(file)).toEqual(good);
    await expectDumpsMatch(fourth.label, mailboxes);
    expect((await verifyServerBackups("mail1", {})).filter((r) => !r.ok)).toEqual([]);
  });
});

async function dumpObjects(): Promise<string[]> {
  const names: string[] = [];
  for await (const info of target.backend.list("dumps/")) names.push(info.name);
  return names.sort();
}

async function manifest(label: string): Promise<Map<string, FileEntry>> {
  const files = JSON.parse(await readFile(path.join(target.root, "sessions", label, "manifest.json"), "utf8")).files as FileEntry[];
  return new Map(files.map((f) => [f.path, f]));
}

async function expectDumpsMatch(label: string, mailboxes: { email: string; account_id: string; group_id: number; id: number }[]): Promise<void> {
  for (const mailbox of mailboxes) {
    const dumped = gunzipSync(await target.readSessionFile(label, `accounts/${mailbox.account_id}/items.copy.gz`)).toString();
    expect(dumped, mailbox.email).toBe(await copyText(`SELECT ${ITEM_COLUMNS.join(", ")} FROM ${groupSchema(mailbox.group_id)}.item WHERE mailbox_id = ${mailbox.id} ORDER BY id`));
  }
}

async function copyText(query: string): Promise<string> {
  const client = await store.pool.connect();
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of client.query(copyTo(`COPY (${query}) TO STDOUT`))) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString();
  } finally {
    client.release();
  }
}

describe("incremental backup", () => {
  it("holds exactly the redo written since the previous session, and fulls for new accounts", async () => {
    const before = await prisma().backupSession.findFirstOrThrow({ where: { status: "completed" }, orderBy: { redoThroughSeq: "desc" } });
    const { rows } = await store.pool.query(
      `SELECT m.account_id, i.id FROM mailstore.mailbox m JOIN mboxgroup1.item i ON i.mailbox_id = m.id AND i.type = 'message' LIMIT 1`,
    );
    expect(rows).toHaveLength(1);
    const seqs: number[] = [];
    for (let i = 0; i < 3; i++) seqs.push((await setFlags(store, { accountId: rows[0].account_id }, { itemIds: [rows[0].id], flags: { flagged: i % 2 === 0 } })).seq!);
    const late = await createAccount(store, { email: "latecomer@example.com" });
    seqs.push(late.seq!);

    const incr = await backup("incremental");
    expect(incr.status).toBe("completed");
    expect(incr.label).toMatch(/^incr-/);
    expect(Number(incr.redoFromSeq)).toBe(Number(before.redoThroughSeq) + 1);
    const description = await sessionJson(incr.label);
    expect(description.redo.fromSeq).toBe(Number(before.redoThroughSeq) + 1);

    // Every number of (from, through] is in the session's segments, once, as a record or a void:
    // its own, or shipped ones it names (redo shipping is on by default).
    const covered: number[] = [];
    const segments = await target.sessionSegments(incr.label);
    expect(segments.map((s) => s.name)).toEqual(description.redo.segments);
    for (const segment of segments) {
      for await (const entry of readSegment(segment.name, target.segmentReader(segment.object))) {
        if ("header" in entry) for (const [a, b] of entry.header.voids) for (let n = a; n <= b; n++) covered.push(n);
        else covered.push(entry.record.seq);
      }
    }
    const inRange = covered.filter((n) => n >= description.redo.fromSeq && n <= description.redo.throughSeq).sort((a, b) => a - b);
    expect(inRange).toEqual(Array.from({ length: description.redo.throughSeq - description.redo.fromSeq + 1 }, (_, i) => description.redo.fromSeq + i));
    for (const seq of seqs) expect(inRange).toContain(seq);

    const latecomer = description.accounts.find((a: { email: string }) => a.email === "latecomer@example.com");
    expect(latecomer).toMatchObject({ kind: "full", reason: "no full backup yet" });
    expect(description.accounts.filter((a: { kind: string }) => a.kind === "full")).toHaveLength(1);
  });

  it("refuses a second backup while one is queued or running", async () => {
    const first = await submitBackup({ server: "mail1", type: "incremental" });
    await expect(submitBackup({ server: "mail1", type: "full" })).rejects.toMatchObject({ code: "backup_in_progress", message: `backup in progress: ${first.label}` });
    await waitForSession(first.label);
  });

  it("refuses bad requests before anything is queued", async () => {
    await expect(submitBackup({ server: "mail9", type: "full" })).rejects.toMatchObject({ code: "server_not_found" });
    await expect(submitBackup({ server: "mail1", type: "full", accounts: ["nobody@example.com"] })).rejects.toThrow(/no live account named nobody@example.com/);
    await expect(submitBackup({ server: "mail1", type: "incremental", accounts: ["user1@example.com"] })).rejects.toThrow(/leave out -a/);
    const server = await prisma().server.findUniqueOrThrow({ where: { name: "mail1" } });
    await prisma().server.update({ where: { id: server.id }, data: { settings: { ...(server.settings as object), minFreePercent: 100 } } });
    try {
      await expect(submitBackup({ server: "mail1", type: "full" })).rejects.toMatchObject({ code: "insufficient_space" });
    } finally {
      await prisma().server.update({ where: { id: server.id }, data: { settings: server.settings as object } });
    }
    expect(await prisma().backupSession.count({ where: { status: { in: ["queued", "running"] } } })).toBe(0);
  });
});
