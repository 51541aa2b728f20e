/**
 * A restore from a snapshot folds the first run of redo after it into the snapshot's rows as they
 * are loaded (snapshot-rows.ts): rows the run changes go in changed, rows it deletes stay out.
 * After a full backup, changes to what the snapshot holds (flags, moves of messages and folders,
 * a rename, contact edits, deletions of changed items) and then random traffic: the folded
 * restore must give, row for row, what record-by-record replay on the plain load gives, and
 * what the original holds. Also the first run's other ends: a first record that cannot be
 * batched (the snapshot loads before it, with nothing folded), a first run that ends because it
 * is full (32 MiB of deliveries), and `skipDeletes`, whose first run leaves the deletions out.
 */
import { randomBytes } from "node:crypto";
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

const fx = useMailServer({ settings: { mailboxGroups: 2 }, accounts: { prefix: "fold", count: 5 }, workers: startWorkers, timeoutMs: 240_000 });

const emails = ["fold0@example.com", "fold1@example.com", "fold2@example.com"];
/** Its first record after the full is a tag, which no run takes. */
const tagFirst = "fold3@example.com";
/** Its first run after the full ends because it is full: flags on its snapshot's messages, then 40 MiB of deliveries. */
const fullFirst = "fold4@example.com";
/** Messages of fold0's snapshot that its first run deletes. */
let deletedInFirstRun: number[] = [];
/** Messages of `fullFirst`'s snapshot that its first run flags. */
const FULL_FIRST_FLAGGED = 12;

async function restoreInto(email: string, prefix: string, mode: ReplayMode, skipDeletes = false) {
  const { plan } = await planFromInput({ server: "mail1", accounts: [email], copy: true, prefix, requestedBy: "test" });
  return restoreAccount({ server: "mail1", account: plan.accounts[0]!, skipDeletes, ignoreRedoErrors: false, excludeBlobs: false, replayMode: mode });
}

async function deliverTo(email: string, count: number, body: () => string) {
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const { delivered } = await deliverMessage(fx.store, { recipients: [email], bytes: Buffer.from(`From: b@example.net\r\nSubject: ${email} ${i}\r\n\r\n${body()}\r\n`) });
    ids.push(delivered[0]!.itemId);
  }
  return ids;
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
  const tagFirstMessages = await deliverTo(tagFirst, 10, () => "short");
  const fullFirstMessages = await deliverTo(fullFirst, 20, () => "short");
  await runBackup("mail1", "full");

  // The first record after the full of these two: a tag; and flags, then more deliveries than a run holds.
  await tagItems(store, { email: tagFirst }, { itemIds: tagFirstMessages.slice(0, 4), tag: "first" });
  await setFlags(store, { email: tagFirst }, { itemIds: tagFirstMessages, flags: { flagged: true } });
  await moveItems(store, { email: tagFirst }, { itemIds: tagFirstMessages.slice(5), folderId: INBOX });
  await setFlags(store, { email: fullFirst }, { itemIds: fullFirstMessages.slice(0, FULL_FIRST_FLAGGED), flags: { flagged: true } });
  await deliverTo(fullFirst, 40, () => randomBytes(768 * 1024).toString("base64"));
  await setFlags(store, { email: fullFirst }, { itemIds: fullFirstMessages.slice(0, 6), flags: { read: true, flagged: false } });
  await deleteItems(store, { email: fullFirst }, { itemIds: fullFirstMessages.slice(15, 18) });

  // The first run: flags set on every one and cleared on those read before, moves, a folder moved and renamed, a contact edited twice,
  // then deletions of items the run already changed. A tag ends the run; more changes follow it.
  await setFlags(store, ref, { itemIds: messages, flags: { flagged: true } });
  await setFlags(store, ref, { itemIds: messages.slice(0, 20), flags: { read: false } });
  await moveItems(store, ref, { itemIds: messages.slice(10, 30), folderId: old });
  await renameFolder(store, ref, { folderId: old, name: `Fold "done" é`, parentId: INBOX });
  await modifyContact(store, ref, { itemId: contact, fields: { firstName: "Ben", phone: "+1 555 0100" } });
  await modifyContact(store, ref, { itemId: contact, fields: { firstName: "Cy", note: 'says "hi"\\\n\tand goes' } });
  deletedInFirstRun = messages.slice(25, 35);
  await deleteItems(store, ref, { itemIds: deletedInFirstRun });
  await tagItems(store, ref, { itemIds: messages.slice(0, 5), tag: "later" });
  await setFlags(store, ref, { itemIds: messages.slice(0, 10), flags: { read: true } });
  await moveItems(store, ref, { itemIds: messages.slice(36, 40), folderId: projects });
  await generateTraffic(store, { ops: 2_000, seed: 62, renames: false, concurrency: 2 });
}, 600_000);

/**
 * Restores `email` into two copies, record by record and batched; checks the two hold the same
 * rows and replayed as much, and (unless deletions were skipped) that they hold the original's.
 */
async function restoreBothWays(email: string, prefix: string, skipDeletes = false) {
  const reference = await restoreInto(email, `ref${prefix}_`, "reference", skipDeletes);
  const batched = await restoreInto(email, `bat${prefix}_`, "batched", skipDeletes);
  expect(reference.foldedRows).toBe(0);
  expect(batched.replayed).toBe(reference.replayed);
  expect(batched.skipped).toBe(reference.skipped);
  expect(batched.snapshotItems).toBe(reference.snapshotItems);
  const rows = await storedMailbox(fx.store.pool, batched.target);
  expect(rows).toEqual(await storedMailbox(fx.store.pool, reference.target));
  if (!skipDeletes) {
    const original = await storedMailbox(fx.store.pool, email);
    expect({ items: rows.items, tombstones: rows.tombstones }).toEqual({ items: original.items, tombstones: original.tombstones });
  }
  return { batched, rows };
}

describe("a restore from a snapshot with redo after it", () => {
  it.each(emails)("folds the first run into the snapshot's rows and gives the record-by-record result (%s)", async (email) => {
    const { batched } = await restoreBothWays(email, email.split("@")[0]!);
    expect(batched.foldedRows).toBeGreaterThan(email === emails[0] ? 40 : 0);
  }, 300_000);

  it("loads the snapshot before a first record that no run takes, with nothing folded, and gives the record-by-record result", async () => {
    const { batched } = await restoreBothWays(tagFirst, "tag");
    expect(batched.foldedRows).toBe(0);
  }, 300_000);

  it("folds a first run that ends because it is full, then changes the same rows again, as record-by-record replay does", async () => {
    const { batched } = await restoreBothWays(fullFirst, "full");
    // The first run's flags folded into the snapshot's rows; the later flags and the deletion
    // (a run after the load) changed some of the same rows in place.
    expect(batched.foldedRows).toBe(FULL_FIRST_FLAGGED);
  }, 300_000);

  it("keeps skipDeletes' meaning: the first run's deletions are left out, and the result is the record-by-record one", async () => {
    const { batched, rows } = await restoreBothWays(emails[0]!, "skip", true);
    expect(batched.skipped).toBeGreaterThan(0);
    // The messages the first run deleted are there, which the original no longer has.
    const ids = (mailbox: { items: { id: string }[] }) => new Set(mailbox.items.map((item) => Number(item.id)));
    const kept = ids(rows);
    expect(deletedInFirstRun.filter((id) => !kept.has(id))).toEqual([]);
    const original = ids(await storedMailbox(fx.store.pool, emails[0]!));
    expect(deletedInFirstRun.filter((id) => original.has(id))).toEqual([]);
  }, 300_000);
});
