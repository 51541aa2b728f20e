/**
 * Exploring a backup with real workers: an account's mailbox as a full session holds it and as
 * it was at a point in time between two changes, searched by subject, sender, recipient and date;
 * a message opened (headers, text, sanitised HTML, attachments); a folder downloaded as mbox and
 * compared with the backup; chosen items restored into a Recovered folder and back where they
 * were; views hidden from group restores and removed when idle; bad requests refused.
 */
import { execFile } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { simpleParser } from "mailparser";
import { startWorkers } from "../../workers/start-workers.ts";
import { consolePool } from "../db/console-db.ts";
import { serverQueue } from "../jobs/queues.ts";
import { createAccount } from "../mailstore/account-operations.ts";
import { VIEW_DOMAIN } from "../mailstore/drop-mailbox.ts";
import { deliverMessage } from "../mailstore/deliver-message.ts";
import { createFolder } from "../mailstore/folder-operations.ts";
import { deleteItems } from "../mailstore/item-operations.ts";
import { INBOX } from "../mailstore/items.ts";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { useMailServer } from "../testing/mail-server-fixture.ts";
import { runBackup, waitFor } from "../testing/wait-for-runs.ts";
import { mboxStream, selectForDownload } from "./download.ts";
import { exploreMessages, listMessages, type MessageList } from "./list-messages.ts";
import { messageHtml, readMessage } from "./read-message.ts";
import { restoreItems } from "./restore-items.ts";
import { mailSource, prepareView, readySource, VIEW_IDLE_MS } from "./views.ts";

const fx = useMailServer({ workers: startWorkers });
let store: Mailstore;
beforeAll(() => void (store = fx.store));

const RICH = [
  "From: Boss <boss@example.net>",
  "To: alice@example.com, Team <team@example.org>",
  "Subject: Quarterly plan",
  "MIME-Version: 1.0",
  'Content-Type: multipart/mixed; boundary="b1"',
  "",
  "--b1",
  'Content-Type: multipart/alternative; boundary="b2"',
  "",
  "--b2",
  "Content-Type: text/plain; charset=utf-8",
  "",
  "The plan, in plain text.",
  "--b2",
  "Content-Type: text/html; charset=utf-8",
  "",
  '<p onclick="alert(1)">The plan, in <b>HTML</b>.</p><script>parent.pwned = 1</script><img src="http://tracker.invalid/p.gif" alt="pixel"><iframe src="http://evil.invalid/"></iframe>',
  "--b2--",
  "--b1",
  'Content-Type: text/plain; name="notes.txt"',
  'Content-Disposition: attachment; filename="notes.txt"',
  "",
  "attached notes",
  "--b1--",
  "",
].join("\r\n");

const plain = (subject: string, from: string, to = "alice@example.com") => Buffer.from(`From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\n\r\n${subject}\r\nFrom the desk of ${from}\r\n`);

async function list(accountId: string, input: Parameters<typeof exploreMessages>[1]): Promise<MessageList> {
  return waitFor(async () => {
    const answer = await exploreMessages(accountId, input);
    return "state" in answer ? null : answer;
  }, `view of ${JSON.stringify(input)}`, 120_000);
}

/** Waits until the database clock has moved past `at` by a few ms, so the next change has a later time. */
async function clockPast(at: Date): Promise<void> {
  await waitFor(async () => (await store.pool.query<{ ok: boolean }>("SELECT clock_timestamp() > $1::timestamptz + interval '3 ms' AS ok", [at])).rows[0]!.ok, "the clock to move");
}

let accountId = "";
let fullLabel = "";
let between = "";
const ids = { rich: 0, budget: 0, lunch: 0, after: 0 };

describe("exploring a backup", () => {
  beforeAll(async () => {
    ({ accountId } = await createAccount(store, { email: "alice@example.com" }));
    const ref = { accountId };
    const { itemId: projects } = await createFolder(store, ref, { name: "Projects", parentId: INBOX });
    const deliver = async (bytes: Buffer, folderId?: number) => (await deliverMessage(store, { recipients: ["alice@example.com"], bytes, folderId })).delivered[0]!.itemId;
    ids.rich = await deliver(Buffer.from(RICH), projects);
    ids.budget = await deliver(plain("Budget 2027", "cfo@example.net", "finance@example.org"), projects);
    ids.lunch = await deliver(plain("Lunch on Friday", "bob@example.com"));
    fullLabel = (await runBackup("mail1", "full")).label;
    // After the full: one more message, then (later) the folder and a message are deleted.
    ids.after = await deliver(plain("After the full", "carol@example.com"));
    const { rows } = await store.pool.query<{ at: Date }>("SELECT max(at) AS at FROM mailstore.redo_log");
    await clockPast(rows[0]!.at);
    between = new Date(rows[0]!.at.getTime() + 2).toISOString();
    await clockPast(new Date(between));
    await deleteItems(store, ref, { itemIds: [projects] });
    await deleteItems(store, ref, { itemIds: [ids.lunch] });
  }, 240_000);

  it("lists and searches the mailbox as a full session holds it, and at a point in time", { timeout: 240_000 }, async () => {
    const live = await listMessages(accountId, {});
    expect(live.messages.map((m) => m.subject)).toEqual(["After the full"]);

    const session = await list(accountId, { label: fullLabel });
    expect(session.source).toMatchObject({ kind: "backup", label: fullLabel, description: `as backed up in ${fullLabel}` });
    expect(session.account.email).toBe("alice@example.com");
    expect(session.messages.map((m) => m.subject).sort()).toEqual(["Budget 2027", "Lunch on Friday", "Quarterly plan"]);
    expect(session.folders.map((f) => f.path)).toContain("/Inbox/Projects");
    expect(session.messages.find((m) => m.id === ids.rich)?.folder).toBe("/Inbox/Projects");

    // At a time after the full and before the deletions: the full plus replayed redo.
    const past = await list(accountId, { at: between });
    expect(past.messages.map((m) => m.subject).sort()).toEqual(["After the full", "Budget 2027", "Lunch on Friday", "Quarterly plan"]);

    // Search: subject, sender, recipient (read from the headers), dates, folder.
    expect((await list(accountId, { label: fullLabel, subject: "budget" })).messages.map((m) => m.id)).toEqual([ids.budget]);
    expect((await list(accountId, { label: fullLabel, from: "bob@" })).messages.map((m) => m.id)).toEqual([ids.lunch]);
    expect((await list(accountId, { label: fullLabel, to: "finance@example.org" })).messages.map((m) => m.id)).toEqual([ids.budget]);
    expect((await list(accountId, { label: fullLabel, to: "team@" })).messages.map((m) => m.id)).toEqual([ids.rich]);
    expect((await list(accountId, { at: between, after: between.slice(0, 10), folder: "/Inbox" })).messages.map((m) => m.subject).sort()).toEqual(["After the full", "Lunch on Friday"]);
    expect((await list(accountId, { label: fullLabel, before: "2000-01-01" })).total).toBe(0);

    // The views are hidden mailboxes: no account owns them, and a group restore leaves them out.
    const { rows } = await store.pool.query<{ email: string; account_id: string }>("SELECT email, account_id FROM mailstore.mailbox WHERE email LIKE $1", [`%@${VIEW_DOMAIN}`]);
    expect(rows).toHaveLength(2);
    const { rows: owners } = await consolePool().query("SELECT id FROM account WHERE id = ANY($1::uuid[])", [rows.map((r) => r.account_id)]);
    expect(owners).toEqual([]);
  });

  it("opens a message from the backup: headers, text, HTML with nothing that runs or loads, attachments", { timeout: 120_000 }, async () => {
    const source = await readySource(accountId, { label: fullLabel });
    const message = await readMessage(source, ids.rich);
    expect(message).toMatchObject({ subject: "Quarterly plan", folder: "/Inbox/Projects", hasHtml: true, text: expect.stringContaining("The plan, in plain text.") });
    expect(message.to).toContain("team@example.org");
    expect(message.headers.find((h) => h.name === "Subject")?.value).toBe("Quarterly plan");
    expect(message.attachments).toEqual([{ index: 0, filename: "notes.txt", contentType: "text/plain", size: 14 }]);
    expect(message.remoteBlocked).toBe(2);
    const html = await messageHtml(source, ids.rich);
    expect(html).toContain("<b>HTML</b>");
    expect(html).not.toMatch(/<script|onclick|tracker\.invalid|evil\.invalid|<iframe/i);
    await expect(readMessage(source, 99_999)).rejects.toMatchObject({ code: "item_not_found" });
  });

  it("downloads a folder of the backup as mbox, message for message as backed up", { timeout: 120_000 }, async () => {
    const source = await readySource(accountId, { label: fullLabel });
    const selection = await selectForDownload(source, { format: "mbox", folder: "/Inbox/Projects" });
    expect(selection.rows.map((r) => r.id).sort()).toEqual([ids.rich, ids.budget].sort());
    const chunks: Buffer[] = [];
    for await (const chunk of mboxStream(source, selection)) chunks.push(chunk as Buffer);
    const mbox = Buffer.concat(chunks).toString("latin1");
    const entries = mbox.split(/^From \S+ \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n/m).filter(Boolean);
    expect(entries).toHaveLength(2);
    const subjects = await Promise.all(entries.map(async (e) => (await simpleParser(Buffer.from(e.replace(/^>(>*From )/gm, "$1"), "latin1"))).subject));
    expect(subjects.sort()).toEqual(["Budget 2027", "Quarterly plan"]);
    // ">From" quoting: the body line "From the desk of …" comes back as it was.
    expect(mbox).toContain("\n>From the desk of cfo@example.net");
    await expect(selectForDownload(source, { format: "mbox", folder: "/Nope" })).rejects.toThrow(/has no folder \/Nope/);
  });

  it("restores chosen items into a Recovered folder and a folder back where it was, each with its redo record", { timeout: 240_000 }, async () => {
    const now = new Date();
    const first = await restoreItems({ accountId, label: fullLabel, itemIds: [ids.lunch] });
    expect(first).toMatchObject({ copied: 1, into: `/Recovered ${now.toISOString().slice(0, 10)}` });
    const recovered = await listMessages(accountId, { folder: `/Recovered ${now.toISOString().slice(0, 10)}/Inbox` });
    expect(recovered.messages.map((m) => m.subject)).toEqual(["Lunch on Friday"]);

    const back = await restoreItems({ accountId, at: between, folders: ["/Inbox/Projects"], into: "original" });
    expect(back).toMatchObject({ copied: 2, foldersCreated: ["/Inbox/Projects"] });
    expect((await listMessages(accountId, { folder: "/Inbox/Projects" })).messages.map((m) => m.subject).sort()).toEqual(["Budget 2027", "Quarterly plan"]);
    // Again: the items are there already, so nothing is copied twice.
    expect(await restoreItems({ accountId, at: between, folders: ["/Inbox/Projects"], into: "original" })).toMatchObject({ copied: 0, skipped: 2 });
    const { rows } = await store.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM mailstore.redo_log WHERE account_id = $1 AND op = 'DeliverMessage' AND at > $2", [accountId, now]);
    expect(rows[0]!.n).toBe(3);
  });

  it("searches, shows and saves from the command line, preparing the view itself", { timeout: 240_000 }, async () => {
    const cli = (...args: string[]) =>
      promisify(execFile)("./bin/mailvault", args, { env: process.env }).then(
        (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
      );
    // A point no view exists for yet: the CLI prepares it in its own process.
    const at = new Date(Date.parse(between) + 2).toISOString();
    const found = await cli("search", "-s", "mail1", "-a", "alice@example.com", "--at", at, "--subject", "lunch");
    expect(found.stderr).toBe("");
    expect(found.stdout).toContain(`alice@example.com as it was at ${at.slice(0, 19).replace("T", " ")} UTC: 1 message(s)`);
    expect(found.stdout).toMatch(new RegExp(`^${ids.lunch}\\s.*bob@example.com\\s+/Inbox\\s+Lunch on Friday`, "m"));
    const shown = await cli("search", "-s", "mail1", "-a", "alice@example.com", "-lb", fullLabel, "--show", String(ids.rich));
    expect(shown.stdout).toContain("Subject: Quarterly plan");
    expect(shown.stdout).toContain("attachment 0: notes.txt (text/plain, 14 bytes)");
    const file = path.join(os.tmpdir(), `explore-${process.pid}.zip`);
    await rm(file, { force: true });
    const saved = await cli("search", "-s", "mail1", "-a", "alice@example.com", "-lb", fullLabel, "--folder", "/Inbox/Projects", "--save", file);
    expect(saved.stdout).toContain(`saved 2 message(s) as backed up in ${fullLabel}`);
    expect((await readFile(file)).subarray(0, 2).toString()).toBe("PK");
    await rm(file, { force: true });
    const bad = await cli("search", "-s", "mail1", "-a", "alice@example.com", "--at", "2999-01-01");
    expect(bad).toMatchObject({ code: 1, stderr: expect.stringMatching(/^mailvault: 2999-01-01 00:00:00 UTC is in the future/) });
    const { rows } = await consolePool().query("SELECT action, outcome FROM audit_log WHERE action = 'items.download'");
    expect(rows).toEqual([{ action: "items.download", outcome: "ok" }]);
  });

  it("refuses bad requests with a clear error and changes nothing", { timeout: 120_000 }, async () => {
    await expect(exploreMessages(accountId, { label: "full-19990101.000000.000" })).rejects.toMatchObject({ code: "session_not_found" });
    await expect(exploreMessages(accountId, { label: fullLabel, at: between })).rejects.toThrow(/not both/);
    await expect(exploreMessages(accountId, { at: "2999-01-01" })).rejects.toThrow(/in the future/);
    await expect(exploreMessages(accountId, { at: "yesterday-ish" })).rejects.toThrow(/unknown time/);
    await expect(exploreMessages(accountId, { at: "2001-01-01" })).rejects.toMatchObject({ code: "restore_refused" });
    await expect(exploreMessages("00000000-0000-4000-8000-000000000000", { label: fullLabel })).rejects.toMatchObject({ code: "account_not_found" });
    await expect(restoreItems({ accountId, label: fullLabel })).rejects.toThrow(/choose messages/);
    await expect(restoreItems({ accountId, label: fullLabel, itemIds: [99_999] })).rejects.toThrow(/has no message or contact 99999/);
    await expect(restoreItems({ accountId, label: fullLabel, folders: ["/Nope"] })).rejects.toThrow(/has no folder \/Nope/);
  });

  it("marks a view whose preparing job ended without it as failed, instead of preparing for ever", { timeout: 120_000 }, async () => {
    const at = new Date(Date.parse(between) + 3).toISOString();
    // A view asked for (planned, row written) whose job then failed past its retries: the job is
    // planted with the view's id and a payload the worker refuses, as a killed worker would leave it.
    const { rows } = await consolePool().query<{ id: number }>(
      `INSERT INTO explore_view (server, account_id, key, at, description, plan, state) VALUES ('mail1', $1, $2, $3, 'as it was then', '{}', 'preparing') RETURNING id`,
      [accountId, `mail1:at:${at}`, at],
    );
    const planted = await serverQueue("mail1").add("explore.prepare", { viewId: "not a number" }, { jobId: `explore-${rows[0]!.id}` });
    await waitFor(async () => (await planted.getState()) === "failed", "the planted job to fail");
    await expect(mailSource(accountId, { at }, { waitMs: 5_000 })).rejects.toMatchObject({ code: "view_failed", message: expect.stringContaining("the worker preparing it stopped") });
    await consolePool().query("DELETE FROM explore_view WHERE id = $1", [rows[0]!.id]);
  });

  it("removes views unused for an hour when the next one is prepared", { timeout: 120_000 }, async () => {
    await consolePool().query("UPDATE explore_view SET used_at = now() - make_interval(secs => $1)", [VIEW_IDLE_MS / 1000 + 60]);
    const before = await store.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM mailstore.mailbox WHERE email LIKE $1", [`%@${VIEW_DOMAIN}`]);
    expect(before.rows[0]!.n).toBe(3);
    const fresh = await mailSource(accountId, { at: new Date(Date.parse(between) + 1).toISOString() }, { waitMs: 60_000 });
    if ("state" in fresh) await prepareView((await consolePool().query<{ id: number }>("SELECT max(id) AS id FROM explore_view")).rows[0]!.id);
    const after = await store.pool.query<{ email: string }>("SELECT email FROM mailstore.mailbox WHERE email LIKE $1", [`%@${VIEW_DOMAIN}`]);
    expect(after.rows).toHaveLength(1);
    const { rows } = await consolePool().query<{ n: number }>("SELECT count(*)::int AS n FROM explore_view");
    expect(rows[0]!.n).toBe(1);
  });
});
