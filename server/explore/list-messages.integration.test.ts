/**
 * Browsing a mailbox the way the console does before a copy-back: the folder tree with counts,
 * messages a page at a time (by folder id or path, by subject or sender), flags and tag names;
 * and the ids and paths it answers are the ones copy-back takes.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { consolePool } from "../db/console-db.ts";
import { copyBack } from "../restore/copy-back.ts";
import { useMailServer } from "../testing/mail-server-fixture.ts";
import { createAccount, deleteAccount } from "../mailstore/account-operations.ts";
import { deliverMessage } from "../mailstore/deliver-message.ts";
import { createFolder } from "../mailstore/folder-operations.ts";
import { setFlags, tagItems } from "../mailstore/item-operations.ts";
import { INBOX } from "../mailstore/items.ts";
import { listMessages } from "./list-messages.ts";
import type { Mailstore } from "../mailstore/mailstore.ts";

const fx = useMailServer();
let store: Mailstore;
beforeAll(() => void (store = fx.store));

const mime = (subject: string, from = "x@example.net") => Buffer.from(`From: ${from}\r\nSubject: ${subject}\r\n\r\n${subject}\r\n`);

describe("listMessages", () => {
  it("lists folders and pages of messages, and answers the ids and paths copy-back takes", async () => {
    const original = await createAccount(store, { email: "frank@example.com" });
    const copy = await createAccount(store, { email: "restore_frank@example.com" });
    // The catalog's record of the restore that made the copy (copy-back takes only such copies).
    await consolePool().query(
      `INSERT INTO restore_run (label, server, status, plan, result) VALUES ('restore-20261204.000000.000', 'mail1', 'completed', $1, $2)`,
      [
        { plan: { point: { description: "the latest change", seq: null, time: null }, accounts: [{ accountId: original.accountId, currentEmail: original.email, emailAtPoint: original.email, snapshot: null, target: { mode: "copy", email: copy.email } }] } },
        { restored: [{ target: copy.email }] },
      ],
    );
    const ref = { accountId: copy.accountId };
    const { itemId: projects } = await createFolder(store, ref, { name: "Projects", parentId: INBOX });
    const ids: number[] = [];
    for (let i = 1; i <= 5; i++) {
      const d = await deliverMessage(store, { recipients: [copy.email], bytes: mime(`Plan ${i}`, i === 3 ? "ceo@example.org" : undefined), folderId: projects });
      ids.push(d.delivered[0]!.itemId);
    }
    const hello = (await deliverMessage(store, { recipients: [copy.email], bytes: mime("Hello 100% there"), flags: ["read"] })).delivered[0]!.itemId;
    await setFlags(store, ref, { itemIds: [ids[0]!], flags: { flagged: true } });
    await tagItems(store, ref, { itemIds: [ids[0]!], tag: "urgent" });

    const all = await listMessages(copy.accountId, {});
    expect(all.total).toBe(6);
    expect(all.folder).toBeNull();
    expect(all.folders.find((f) => f.path === "/Inbox/Projects")).toMatchObject({ id: projects, messages: 5, unread: 5 });
    expect(all.messages.find((m) => m.id === hello)).toMatchObject({ subject: "Hello 100% there", read: true, flagged: false, folder: "/Inbox" });
    expect(all.messages.find((m) => m.id === ids[0])).toMatchObject({ flagged: true, read: false, tags: ["urgent"], folder: "/Inbox/Projects", folderId: projects });

    const byPath = await listMessages(copy.accountId, { folder: "/inbox/projects/", pageSize: 2, page: 2 });
    expect(byPath).toMatchObject({ total: 5, page: 2, pageSize: 2, folder: { id: projects, path: "/Inbox/Projects" } });
    expect(byPath.messages).toHaveLength(2);
    expect((await listMessages(copy.accountId, { folder: String(projects) })).total).toBe(5);
    expect((await listMessages(copy.accountId, { q: "ceo@" })).messages.map((m) => m.subject)).toEqual(["Plan 3"]);
    expect((await listMessages(copy.accountId, { q: "100%" })).messages.map((m) => m.id)).toEqual([hello]);
    expect((await listMessages(copy.accountId, { q: "%" })).total).toBe(1);

    // What the page answers is what copy-back takes: one item by id, one folder by path.
    // Never between unrelated mailboxes: not into another account, not from one no restore made.
    const stranger = await createAccount(store, { email: "stranger@example.com" });
    await expect(copyBack({ server: "mail1", from: copy.email, to: stranger.email, itemIds: [hello] })).rejects.toThrow(/is a copy of frank@example.com \(made by restore-20261204.000000.000\), not of stranger@example.com/);
    await expect(copyBack({ server: "mail1", from: stranger.email, to: original.email, itemIds: [hello] })).rejects.toThrow(/is not a copy made by a restore/);
    const result = await copyBack({ server: "mail1", from: copy.email, to: original.email, itemIds: [hello], folders: [byPath.folder!.path] });
    expect(result).toMatchObject({ copied: 6, problems: [] });
    const back = await listMessages(original.accountId, { folder: "/Inbox/Projects" });
    expect(back.messages.map((m) => m.subject).sort()).toEqual(["Plan 1", "Plan 2", "Plan 3", "Plan 4", "Plan 5"]);
    expect(back.messages.find((m) => m.subject === "Plan 1")).toMatchObject({ flagged: true, tags: ["urgent"] });
  });

  it("refuses an unknown folder, a deleted account, an unknown account and a too large page", async () => {
    const gone = await createAccount(store, { email: "gone@example.com" });
    await expect(listMessages(gone.accountId, { folder: "/Nope" })).rejects.toMatchObject({ code: "folder_not_found" });
    await expect(listMessages(gone.accountId, { folder: "99999" })).rejects.toMatchObject({ code: "folder_not_found" });
    await expect(listMessages(gone.accountId, { pageSize: 1000 })).rejects.toThrow(/pageSize can be at most 200/);
    await deleteAccount(store, { accountId: gone.accountId });
    await expect(listMessages(gone.accountId, {})).rejects.toMatchObject({ code: "mailbox_not_found" });
    await expect(listMessages("00000000-0000-4000-8000-000000000000", {})).rejects.toMatchObject({ code: "account_not_found" });
  });
});
