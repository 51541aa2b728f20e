/**
 * A restore from a snapshot folds the first run of redo after it into the snapshot's rows as they
 * are loaded (snapshot-rows.ts): rows the run changes go in changed, rows it deletes stay out.
 * After a full backup, changes to what the snapshot holds (flags, moves of messages and folders,
 * a rename, contact edits, deletions of changed items) and then random traffic: the folded
 * restore must give, row for row, what record-by-record replay on the plain load gives, and
 * what the original holds.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { startWorkers } from "../../workers/start-workers.ts";
import { generateTraffic } from "../demo/generate-traffic.ts";
import { createContact, modifyContact } from "../mailstore/contact-operations.ts";
import { deliverMessage } from "../mailstore/deliver-message.ts";
import { createFolder, renameFolder } from "../mailstore/folder-operations.ts";
import { deleteItems, moveItems, setFlags, tagItems } from "../mailstore/item-operations.ts";
import { INBOX } from "../mailstore/items.ts";
import { useMailServer } from "../testing/mail-server-fixture.ts";
import { runBackup } from "../testing/wait-for-runs.ts";
import type { ReplayMode } from "./replay.ts";
import { restoreAccount } from "./restore-account.ts";
import { storedMailbox } from "./stored-rows.ts";
import { planFromInput } from "./submit-restore.ts";

const fx = useMailServer({ settings: { mailboxGroups: 2 }, accounts: { prefix: "fold", count: 3 }, workers: startWorkers, timeoutMs: 240_000 });

const emails = ["fold0@example.com", "fold1@example.com", "fold2@example.com"];

async function restoreInto(email: string, prefix: string, mode: ReplayMode) {
  const { plan } = await planFromInput({ server: "mail1", accounts: [email], copy: true, prefix, requestedBy: "test" });
  return restoreAccount({ server: "mail1", account: plan.accounts[0]!, skipDeletes: false, ignoreRedoErrors: false, excludeBlobs: false, replayMode: mode });
}

beforeAll(async () => {
  const store = fx.store;
  await generateTraffic(store, { ops: 1_200, seed: 61, renames: false, concurrency: 2 });
  // Items of the first account's snapshot that the redo after the full will change.
  const ref = { email: emails[0]! };
  const messages: number[] = [];
  for (let i = 0; i < 40; i++) {
    // Long subjects of two-byte characters: the dump's chunks (16 KiB) end inside them.
    const subject = Buffer.from(`Réunion ${i} ${"é".repeat(2_000)}`).toString("base64");
    const { delivered } = await deliverMessage(store, { recipients: [emails[0]!], bytes: Buffer.from(`From: a@example.net\r\nSubject: =?UTF-8?B?${subject}?=\r\n\r\nbody ${i}\r\n`) });
    messages.push(delivered[0]!.itemId);
  }
  const projects = (await createFolder(store, ref, { name: "Fold projects" })).itemId;
  const old = (await createFolder(store, ref, { name: "Fold old", parentId: projects })).itemId;
  const contact = (await createContact(store, ref, { fields: { firstName: "Ana", email: "ana@example.net" } })).itemId;
  await setFlags(store, ref, { itemIds: messages.slice(0, 20), flags: { read: true } });
  await runBackup("mail1", "full");

  // The first run: flags set on every one and cleared on those read before, moves, a folder moved and renamed, a contact edited twice,
  // then deletions of items the run already changed. A tag ends the run; more changes follow it.
  await setFlags(store, ref, { itemIds: messages, flags: { flagged: true } });
  await setFlags(store, ref, { itemIds: messages.slice(0, 20), flags: { read: false } });
  await moveItems(store, ref, { itemIds: messages.slice(10, 30), folderId: old });
  await renameFolder(store, ref, { folderId: old, name: `Fold "done" é`, parentId: INBOX });
  await modifyContact(store, ref, { itemId: contact, fields: { firstName: "Ben", phone: "+1 555 0100" } });
  await modifyContact(store, ref, { itemId: contact, fields: { firstName: "Cy", note: 'says "hi"\\\n\tand goes' } });
  await deleteItems(store, ref, { itemIds: messages.slice(25, 35) });
  await tagItems(store, ref, { itemIds: messages.slice(0, 5), tag: "later" });
  await setFlags(store, ref, { itemIds: messages.slice(0, 10), flags: { read: true } });
  await moveItems(store, ref, { itemIds: messages.slice(36, 40), folderId: projects });
  await generateTraffic(store, { ops: 2_000, seed: 62, renames: false, concurrency: 2 });
}, 600_000);

describe("a restore from a snapshot with redo after it", () => {
  it.each(emails)("folds the first run into the snapshot's rows and gives the record-by-record result (%s)", async (email) => {
    const name = email.split("@")[0]!;
    const reference = await restoreInto(email, `ref${name}_`, "reference");
    const batched = await restoreInto(email, `bat${name}_`, "batched");
    expect(reference.foldedRows).toBe(0);
    expect(batched.foldedRows).toBeGreaterThan(email === emails[0] ? 40 : 0);
    expect(batched.replayed).toBe(reference.replayed);
    expect(batched.snapshotItems).toBe(reference.snapshotItems);
    const batchedRows = await storedMailbox(fx.store.pool, batched.target);
    expect(batchedRows).toEqual(await storedMailbox(fx.store.pool, reference.target));
    const original = await storedMailbox(fx.store.pool, email);
    expect({ items: batchedRows.items, tombstones: batchedRows.tombstones }).toEqual({ items: original.items, tombstones: original.tombstones });
  }, 300_000);
});
