/**
 * The deletion timeline end to end with real workers: a message deleted between a full backup and
 * an incremental (so its record lives only in the session on the backup target), a move into
 * Trash sealed in the redo archive, and Trash emptied in the current log all show, newest first,
 * with subjects and the folder paths they had then; the account is found by a former name; and
 * restoring a copy to the point just before the deletion brings the message back.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { startWorkers } from "../../workers/start-workers.ts";
import { prisma } from "../db/console-db.ts";
import { createAccount, renameAccount } from "../mailstore/account-operations.ts";
import { deliverMessage } from "../mailstore/deliver-message.ts";
import { createFolder, renameFolder } from "../mailstore/folder-operations.ts";
import { deleteItems, emptyFolder, moveItems, purgeOldMessages } from "../mailstore/item-operations.ts";
import { INBOX, TRASH } from "../mailstore/items.ts";
import { accountOverview } from "../directory/account-overview.ts";
import { listMessages } from "../explore/list-messages.ts";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { getRestoreRun } from "../restore/get-restore-run.ts";
import { restorePoints } from "../restore/restore-points.ts";
import { submitRestore } from "../restore/submit-restore.ts";
import { useMailServer } from "../testing/mail-server-fixture.ts";
import { runBackup, runRestore } from "../testing/wait-for-runs.ts";
import { archiveRedo, listSegments } from "./archive-redo.ts";
import { deletionTimeline } from "./deletion-timeline.ts";

// Archived segments leave the archive as soon as a session holds them: older redo is then only on the target.
const fx = useMailServer({ settings: { redoKeepSeconds: 0 }, workers: startWorkers });
let store: Mailstore;
beforeAll(() => void (store = fx.store));

const mime = (subject: string) => Buffer.from(`From: boss@example.net\r\nSubject: ${subject}\r\n\r\n${subject} body\r\n`);

describe("deletion timeline", () => {
  it("shows deletions from the target, the archive and the current log, and a restore to just before one brings it back", async () => {
    const alice = await createAccount(store, { email: "alice@example.com" });
    await createAccount(store, { email: "bob@example.com" });
    const ref = { accountId: alice.accountId };
    const { itemId: projects } = await createFolder(store, ref, { name: "Projects", parentId: INBOX });
    const report = (await deliverMessage(store, { recipients: ["alice@example.com"], bytes: mime("Quarterly report"), folderId: projects })).delivered[0]!.itemId;
    const lunch = (await deliverMessage(store, { recipients: ["alice@example.com"], bytes: mime("Lunch plans") })).delivered[0]!.itemId;
    const other = (await deliverMessage(store, { recipients: ["bob@example.com"], bytes: mime("Bob's memo") })).delivered[0]!.itemId;
    await runBackup("mail1", "full");

    await deliverMessage(store, { recipients: ["alice@example.com"], bytes: mime("Status update") });
    const deletion = await deleteItems(store, ref, { itemIds: [report] });
    await deleteItems(store, { email: "bob@example.com" }, { itemIds: [other] });
    await renameFolder(store, ref, { folderId: projects, name: "Old projects" });
    const incr = await runBackup("mail1", "incremental");
    const archive = (await prisma().server.findUniqueOrThrow({ where: { name: "mail1" } })).redoArchivePath;
    expect((await listSegments(archive)).every((s) => s.lastSeq > deletion.seq!)).toBe(true); // only the target holds it now

    await moveItems(store, ref, { itemIds: [lunch], folderId: TRASH });
    await archiveRedo(store, { force: true, maxBytes: 1, maxAgeSeconds: 1 });
    await emptyFolder(store, ref, { folderId: TRASH });

    const timeline = await deletionTimeline("mail1", { account: "alice@example.com" });
    expect(timeline.warnings).toEqual([]);
    expect(timeline.entries.map((e) => e.op)).toEqual(["EmptyFolder", "MoveItems", "DeleteItems"]);
    const [emptied, trashed, deleted] = timeline.entries;
    expect(emptied).toMatchObject({ folder: "/Trash", count: 1, items: [{ subject: "Lunch plans", folder: "/Trash" }] });
    expect(trashed).toMatchObject({ folder: "/Inbox", items: [{ id: lunch, subject: "Lunch plans", folder: "/Inbox" }] });
    expect(deleted).toMatchObject({
      seq: deletion.seq,
      accountId: alice.accountId,
      email: "alice@example.com",
      folder: "/Inbox/Projects",
      items: [{ id: report, type: "message", subject: "Quarterly report", folder: "/Inbox/Projects" }],
      restoreBefore: { restoreToRedoSeq: deletion.seq! - 1 },
    });
    expect(Date.parse(deleted!.restoreBefore.restoreToTime)).toBeLessThan(Date.parse(deleted!.at));

    // Every server's deletions, a page at a time, newest first and each record once.
    const first = await deletionTimeline("mail1", { limit: 2 });
    expect(first.entries).toHaveLength(2);
    const rest = await deletionTimeline("mail1", { beforeSeq: first.nextBeforeSeq! });
    const all = [...first.entries, ...rest.entries].map((e) => e.seq);
    expect(all).toEqual([...all].sort((a, b) => b - a));
    expect(new Set(all).size).toBe(4);
    expect(rest.nextBeforeSeq).toBeNull();
    expect((await deletionTimeline("mail1", { from: new Date(Date.now() + 60_000).toISOString() })).entries).toEqual([]);

    const restored = await runRestore({ server: "mail1", accounts: ["alice@example.com"], restoreToRedoSeq: deleted!.restoreBefore.restoreToRedoSeq, copy: true, prefix: "undo_" });
    expect(restored.plan.accounts[0]!.redo.sessions.map((s) => s.label)).toEqual([incr.label]);
    expect(await getRestoreRun(restored.label)).toMatchObject({ status: "completed", accountsDone: 1, plan: { accounts: [{ target: { email: "undo_alice@example.com" } }] } });
    const copy = await prisma().account.findFirstOrThrow({ where: { email: "undo_alice@example.com" } });
    const back = await listMessages(copy.id, { folder: "/Inbox/Projects" });
    expect(back.messages.map((m) => m.subject)).toEqual(["Quarterly report"]);
    expect((await listMessages(copy.id, { folder: "/Inbox" })).messages.map((m) => m.subject).sort()).toEqual(["Lunch plans", "Status update"]);
    // The copy's page says what it is a copy of, and copy-back knows where to copy into.
    expect((await accountOverview(copy.id)).copyOf).toMatchObject({ restoreRun: restored.label, originalAccountId: alice.accountId, originalEmail: "alice@example.com" });
    expect((await accountOverview(alice.accountId)).copyOf).toBeNull();

    // Found by a name the account no longer has, under the name it had at the time.
    await renameAccount(store, { accountId: alice.accountId, newEmail: "alice.smith@example.com" });
    const later = await deletionTimeline("mail1", { account: "alice@example.com", limit: 1 });
    expect(later.entries[0]).toMatchObject({ op: "EmptyFolder", email: "alice@example.com" });
    expect(later.nextBeforeSeq).toBe(later.entries[0]!.seq);
  });

  it("names a folder deleted with its contents as one entry, hides what changed nothing, searches, and says which points cannot be restored", async () => {
    const carol = await createAccount(store, { email: "carol@example.com" });
    const ref = { accountId: carol.accountId };
    const memo = (await deliverMessage(store, { recipients: ["carol@example.com"], bytes: mime("Old memo") })).delivered[0]!.itemId;
    await deleteItems(store, ref, { itemIds: [memo] }); // before carol's first full backup
    const { itemId: projects } = await createFolder(store, ref, { name: "Projects", parentId: INBOX });
    const { itemId: specs } = await createFolder(store, ref, { name: "Specs", parentId: projects });
    for (const subject of ["Offsite planning contract", "Meeting proposal", "Budget 2027"]) {
      await deliverMessage(store, { recipients: ["carol@example.com"], bytes: mime(subject), folderId: projects });
    }
    await deliverMessage(store, { recipients: ["carol@example.com"], bytes: mime("Spec draft"), folderId: specs });
    await runBackup("mail1", "full");
    await purgeOldMessages(store, ref, { folderId: TRASH, before: new Date(Date.now() - 3_600_000) }); // finds nothing
    await deleteItems(store, ref, { itemIds: [projects] });

    const timeline = await deletionTimeline("mail1", { account: "carol@example.com" });
    expect(timeline.entries.map((e) => e.op)).toEqual(["DeleteItems", "DeleteItems"]);
    const [folder, old] = timeline.entries;
    expect(folder).toMatchObject({
      what: "Folder /Inbox/Projects and its 4 messages and 1 subfolder deleted",
      event: "folder /Inbox/Projects was deleted",
      folders: [{ path: "/Inbox/Projects", messages: 4, subfolders: 1 }],
      messages: 4,
      restorable: { ok: true },
    });
    expect(old).toMatchObject({ what: "1 message deleted from /Inbox: Old memo", event: "1 message was deleted from /Inbox", folders: [], messages: 1 });
    expect(old!.restorable).toMatchObject({ ok: false, reason: expect.stringMatching(/^before the oldest backup of this account, \d{4}-\d\d-\d\d \d\d:\d\d UTC$/) });

    expect((await deletionTimeline("mail1", { account: "carol@example.com", q: "projects" })).entries.map((e) => e.seq)).toEqual([folder!.seq]);
    expect((await deletionTimeline("mail1", { account: "carol@example.com", q: "Meeting PROPOSAL" })).entries.map((e) => e.seq)).toEqual([folder!.seq]);
    expect((await deletionTimeline("mail1", { account: "carol@example.com", q: "old memo" })).entries.map((e) => e.seq)).toEqual([old!.seq]);
    expect((await deletionTimeline("mail1", { account: "carol@example.com", q: "nothing like this" })).entries).toEqual([]);

    // The plan for "just before" says it in the same words, and counts what it replays after the full.
    expect(folder!.justBefore).toBe(`${folder!.at.slice(0, 16).replace("T", " ")} UTC, just before folder /Inbox/Projects was deleted`);
    const preview = await submitRestore({ server: "mail1", accounts: ["carol@example.com"], copy: true, prefix: "before_", restoreToRedoSeq: folder!.restoreBefore.restoreToRedoSeq, dryRun: true });
    expect(preview.plan.point).toMatchObject({ justBefore: folder!.justBefore, justBeforeAt: folder!.at });
    expect(preview.plan.accounts[0]!.redo.changes).toBe(1); // the purge that found nothing
    // A time typed by hand is judged against the same window.
    expect((await restorePoints(carol.accountId, { at: old!.at })).pointCheck).toEqual({ at: old!.at, reason: old!.restorable.ok ? null : old!.restorable.reason });
    expect((await restorePoints(carol.accountId, { at: folder!.at })).pointCheck).toEqual({ at: folder!.at, reason: null });
    await expect(restorePoints(carol.accountId, { at: "last tuesday" })).rejects.toMatchObject({ code: "invalid_input" });
  });

  it("refuses a bad time, a too large limit, an unknown account or server, and says when the mailstore is unavailable", async () => {
    await expect(deletionTimeline("mail1", { from: "last tuesday" })).rejects.toMatchObject({ code: "invalid_input" });
    await expect(deletionTimeline("mail1", { limit: 5000 })).rejects.toThrow(/limit can be at most 1000/);
    await expect(deletionTimeline("mail1", { account: "nobody@example.com" })).rejects.toMatchObject({ code: "account_not_found" });
    await expect(deletionTimeline("nosuch", {})).rejects.toMatchObject({ code: "server_not_found" });
    // mail2's mailstore was never set up here: unavailable (503), not a server error.
    await expect(deletionTimeline("mail2", {})).rejects.toMatchObject({ code: "store_unavailable" });
  });
});
