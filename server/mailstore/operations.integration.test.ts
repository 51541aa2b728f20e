/**
 * The write path against a real mailstore database: every operation changes the items, bumps
 * the mailbox's change number by one and writes exactly one redo record; bad input fails with a
 * typed error and changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseName } from "../config.ts";
import { seedDemo } from "../demo/seed-demo.ts";
import { createTestEnv, type TestEnv } from "../testing/test-env.ts";
import { createAccount, deleteAccount, renameAccount } from "./account-operations.ts";
import { createContact, modifyContact } from "./contact-operations.ts";
import { deliverMessage } from "./deliver-message.ts";
import { createFolder, renameFolder } from "./folder-operations.ts";
import { deleteItems, emptyFolder, moveItems, purgeOldMessages, setFlags, tagItems } from "./item-operations.ts";
import { INBOX, ROOT, TRASH } from "./items.ts";
import { prepared } from "./mailbox-tx.ts";
import { createMailstore, openMailstore, type Mailstore } from "./mailstore.ts";
import { groupDdl, groupSchema } from "./schema.ts";
import { setUpServerStore } from "./setup-mailstore.ts";
import { getServer } from "../directory/list-servers.ts";
import { searchAccounts } from "../directory/search-accounts.ts";

let env: TestEnv;
let store: Mailstore;
let alice: { accountId: string; email: string };
let bob: { accountId: string; email: string };

function message(subject: string, body = "hello", date = "Mon, 02 Nov 2026 10:00:00 +0000"): Buffer {
  return Buffer.from(`From: Sender <sender@example.net>\r\nTo: alice@example.com\r\nSubject: ${subject}\r\nDate: ${date}\r\nMessage-ID: <${subject.replace(/\W/g, "")}@example.net>\r\n\r\n${body}\r\n`);
}

async function snapshot(accountId: string) {
  const { rows: mailbox } = await store.pool.query("SELECT * FROM mailstore.mailbox WHERE account_id = $1", [accountId]);
  const m = mailbox[0];
  const { rows: items } = await store.pool.query(`SELECT * FROM ${groupSchema(m.group_id)}.item WHERE mailbox_id = $1 ORDER BY id`, [m.id]);
  const { rows: redo } = await store.pool.query("SELECT seq, op, change_number FROM mailstore.redo_log WHERE mailbox_id = $1 ORDER BY seq", [m.id]);
  return { mailbox: m, items, redo };
}

beforeAll(async () => {
  env = await createTestEnv();
  await seedDemo({ accounts: 0, dataDir: env.dataDir, consoleDatabase: databaseName(env.databaseUrl) });
  await setUpServerStore("mail1");
  store = await openMailstore("mail1");
  const a = await createAccount(store, { email: "Alice.Test@example.com", displayName: "Alice" });
  const b = await createAccount(store, { email: "bob.test@example.com" });
  alice = a;
  bob = b;
});

afterAll(() => env?.cleanup());

describe("the write path", () => {
  it("creates a mailbox with its system folders, in group ((id - 1) mod N) + 1, with one redo record", async () => {
    const { mailbox, items, redo } = await snapshot(alice.accountId);
    expect(mailbox.email).toBe("alice.test@example.com");
    expect(mailbox.group_id).toBe(((mailbox.id - 1) % store.groups) + 1);
    expect(items.map((i) => i.name)).toEqual(["", "Inbox", "Trash", "Junk", "Sent", "Drafts", "Contacts"]);
    expect(redo).toEqual([{ seq: expect.any(Number), op: "CreateMailbox", change_number: 1 }]);
  });

  it("delivers one message to two recipients: one blob, one record each, the first naming the blob and the second naming the first", async () => {
    const result = await deliverMessage(store, { recipients: [alice.email, bob.email, "nobody@example.com"], bytes: message("Quarterly report") });
    expect(result.delivered.map((d) => d.recipient).sort()).toEqual([alice.email, bob.email]);
    expect(result.refused.map((r) => [r.recipient, r.error.code])).toEqual([["nobody@example.com", "mailbox_not_found"]]);
    expect(await store.blobs.has(result.digest)).toBe(true);
    // The bytes are in the volume only: the log holds no copy of them (the archiver seals them into the segment).
    const { rows } = await store.pool.query("SELECT payload, blob IS NULL AS by_reference FROM mailstore.redo_log WHERE op = 'DeliverMessage' ORDER BY seq");
    expect(rows.map((r) => r.by_reference)).toEqual([true, true]);
    expect(rows[0].payload).toMatchObject({ digest: result.digest, size: result.size });
    expect(rows[0].payload.blobSeq).toBeUndefined();
    expect(rows[1].payload.blobSeq).toBe(result.delivered.find((d) => d.recipient === rows[0].payload.recipient)!.seq);
    const { items } = await snapshot(alice.accountId);
    expect(items.find((i) => i.type === "message")).toMatchObject({ subject: "Quarterly report", sender: "sender@example.net", folder_id: INBOX });
  });

  it("runs each operation as one change with one redo record, change numbers without gaps", async () => {
    const f = await createFolder(store, { accountId: alice.accountId }, { name: "Projects" });
    const sub = await createFolder(store, { accountId: alice.accountId }, { name: "2026", parentId: f.itemId });
    const d = await deliverMessage(store, { recipients: [alice.email], bytes: message("Plan", "x".repeat(5000)) });
    const msg = d.delivered[0]!.itemId;
    await moveItems(store, { accountId: alice.accountId }, { itemIds: [msg], folderId: sub.itemId });
    await setFlags(store, { accountId: alice.accountId }, { itemIds: [msg], flags: { read: true, flagged: true } });
    await tagItems(store, { accountId: alice.accountId }, { itemIds: [msg], tag: "important" });
    await renameFolder(store, { accountId: alice.accountId }, { folderId: f.itemId, name: "Old projects" });
    const c = await createContact(store, { accountId: alice.accountId }, { fields: { firstName: "Carol", email: "carol@example.org" } });
    await modifyContact(store, { accountId: alice.accountId }, { itemId: c.itemId, fields: { firstName: "Carol", lastName: "White" } });

    const { mailbox, items, redo } = await snapshot(alice.accountId);
    expect(redo.map((r) => r.change_number)).toEqual(Array.from({ length: redo.length }, (_, i) => i + 1));
    expect(mailbox.change_number).toBe(redo.length);
    expect(redo.map((r) => r.op)).toEqual([
      "CreateMailbox", "DeliverMessage", "CreateFolder", "CreateFolder", "DeliverMessage", "MoveItems", "SetFlags", "TagItems", "RenameFolder", "CreateContact", "ModifyContact",
    ]);
    const moved = items.find((i) => i.id === msg);
    expect(moved).toMatchObject({ folder_id: sub.itemId, flags: 3 });
    expect(moved.tags).toHaveLength(1);
    expect(items.find((i) => i.id === c.itemId)).toMatchObject({ name: "Carol White" });
    expect(mailbox.size_bytes).toBe(items.filter((i) => i.type === "message").reduce((n, i) => n + i.size, 0));
  });

  it("refuses bad requests with typed errors and changes nothing", async () => {
    const before = await snapshot(alice.accountId);
    const ref = { accountId: alice.accountId };
    const folder = before.items.find((i) => i.name === "Old projects")!;
    const sub = before.items.find((i) => i.name === "2026")!;
    await expect(moveItems(store, ref, { itemIds: [folder.id], folderId: sub.id })).rejects.toMatchObject({ code: "folder_into_itself" });
    await expect(renameFolder(store, ref, { folderId: folder.id, parentId: folder.id })).rejects.toMatchObject({ code: "folder_into_itself" });
    await expect(deleteItems(store, ref, { itemIds: [INBOX] })).rejects.toMatchObject({ code: "system_folder" });
    await expect(deleteItems(store, ref, { itemIds: [99_999] })).rejects.toMatchObject({ code: "item_not_found" });
    await expect(createFolder(store, ref, { name: "old PROJECTS" })).rejects.toMatchObject({ code: "folder_exists" });
    await expect(createFolder(store, ref, { name: "a/b" })).rejects.toMatchObject({ code: "invalid_input" });
    await expect(setFlags(store, ref, { itemIds: [folder.id], flags: { read: true } })).rejects.toMatchObject({ code: "item_not_found" });
    await expect(tagItems(store, ref, { itemIds: [sub.id], tag: "x", remove: true })).rejects.toThrow();
    await expect(moveItems(store, { accountId: "00000000-0000-4000-8000-000000000000" }, { itemIds: [300], folderId: ROOT })).rejects.toMatchObject({ code: "mailbox_not_found" });
    expect(await snapshot(alice.accountId)).toEqual(before);
  });

  it("refuses an over-quota delivery for that recipient only", async () => {
    await store.pool.query("UPDATE mailstore.mailbox SET quota_bytes = size_bytes + 100 WHERE account_id = $1", [bob.accountId]);
    const before = await snapshot(bob.accountId);
    const result = await deliverMessage(store, { recipients: [bob.email, alice.email], bytes: message("Big", "y".repeat(1000)) });
    expect(result.refused.map((r) => r.error.code)).toEqual(["quota_exceeded"]);
    expect(result.delivered.map((d) => d.recipient)).toEqual([alice.email]);
    expect(await snapshot(bob.accountId)).toEqual(before);
  });

  it("deletes subtrees, empties folders and purges old mail, recording what went", async () => {
    const ref = { accountId: alice.accountId };
    const old = await deliverMessage(store, { recipients: [alice.email], bytes: message("Ancient", "old", "Tue, 01 Jan 2019 10:00:00 +0000") });
    await deliverMessage(store, { recipients: [alice.email], bytes: message("Fresh") });
    const purge = await purgeOldMessages(store, ref, { folderId: INBOX, before: new Date("2020-01-01") });
    expect(purge.deleted).toBe(1);

    const { items } = await snapshot(alice.accountId);
    const folder = items.find((i) => i.name === "Old projects")!;
    const del = await deleteItems(store, ref, { itemIds: [folder.id] });
    expect(del.deleted).toBe(3); // the folder, its subfolder and the message in it
    const { rows } = await store.pool.query("SELECT payload FROM mailstore.redo_log WHERE seq = $1", [del.seq]);
    expect(rows[0].payload.deleted.map((d: { subject: string | null; name: string | null }) => d.subject ?? d.name)).toEqual(["Old projects", "2026", "Plan"]);

    const fresh = (await snapshot(alice.accountId)).items.find((i) => i.subject === "Fresh")!;
    await moveItems(store, ref, { itemIds: [fresh.id], folderId: TRASH });
    expect((await emptyFolder(store, ref, { folderId: TRASH })).deleted).toBe(1);
    const after = await snapshot(alice.accountId);
    expect(after.items.some((i) => i.id === old.delivered[0]!.itemId || i.id === fresh.id)).toBe(false);
    const { rows: tombstones } = await store.pool.query(`SELECT item_id FROM ${groupSchema(after.mailbox.group_id)}.tombstone WHERE mailbox_id = $1`, [after.mailbox.id]);
    expect(tombstones.map((t) => t.item_id)).toEqual(expect.arrayContaining([folder.id, fresh.id]));
  });

  it("renames an account in the mailstore and keeps the old name in the directory", async () => {
    const renamed = await renameAccount(store, { accountId: bob.accountId, newEmail: "robert.test@example.com" });
    expect(renamed).toMatchObject({ oldEmail: "bob.test@example.com", newEmail: "robert.test@example.com" });
    expect((await snapshot(bob.accountId)).mailbox.email).toBe("robert.test@example.com");
    const found = await searchAccounts({ q: "bob.test" });
    expect(found.items[0]).toMatchObject({ email: "robert.test@example.com", matchedFormerName: "bob.test@example.com" });
    await expect(renameAccount(store, { accountId: bob.accountId, newEmail: "alice.test@example.com" })).rejects.toMatchObject({ code: "account_exists" });
  });

  it("deletes a mailbox with one DeleteMailbox record and marks the account deleted", async () => {
    const deleted = await deleteAccount(store, { accountId: bob.accountId });
    expect(deleted.deletedItems).toBeGreaterThan(0);
    const { rows } = await store.pool.query("SELECT op FROM mailstore.redo_log WHERE account_id = $1 ORDER BY seq DESC LIMIT 1", [bob.accountId]);
    expect(rows[0].op).toBe("DeleteMailbox");
    const { rowCount } = await store.pool.query("SELECT 1 FROM mailstore.mailbox WHERE account_id = $1", [bob.accountId]);
    expect(rowCount).toBe(0);
    const found = await searchAccounts({ q: "robert.test" });
    expect(found.items[0]!.deletedAt).not.toBeNull();
  });
  it("runs its prepared statements again after the group's tables were dropped and made again on another connection", async () => {
    const { mailbox } = await snapshot(alice.accountId);
    const client = await store.pool.connect();
    try {
      const inbox = () => client.query(prepared(`SELECT * FROM ${groupSchema(mailbox.group_id)}.item WHERE mailbox_id = $1 AND id = $2`, [mailbox.id, INBOX]));
      expect((await inbox()).rows).toHaveLength(1);
      const { rows } = await client.query<{ name: string }>("SELECT name FROM pg_prepared_statements");
      expect(rows.length).toBeGreaterThan(0);
      // What a group restore does (restore --group), from a connection of its own.
      await store.pool.query(`DROP SCHEMA ${groupSchema(mailbox.group_id)} CASCADE`);
      await store.pool.query(groupDdl(mailbox.group_id));
      expect((await inbox()).rows).toEqual([]);
    } finally {
      client.release();
    }
  });
});

describe("plans that hold as the tables grow (no ANALYZE: autovacuum is off on these machines)", () => {
  // One connection, so every operation runs on the one that prepared its statements. PostgreSQL
  // keeps a prepared statement's generic plan, made from what the table held then, until its
  // statistics change. A plan made on a handful of rows took the folder index for "mailbox_id =
  // $1 AND id = $2" and read every item of the mailbox to find one.
  let single: Mailstore;
  beforeAll(async () => {
    single = await createMailstore(await getServer("mail1"), { poolSize: 1 });
  });
  afterAll(() => single?.pool.end());

  /** Tuples the table's scans have read, as the statistics have them once `single`'s are in. */
  async function tuplesRead(table: string): Promise<number> {
    await single.pool.query("SELECT pg_stat_force_next_flush()");
    const { rows } = await store.pool.query<{ read: string }>(
      `SELECT pg_stat_clear_snapshot(),
              (SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) FROM pg_stat_user_tables WHERE relid = $1::regclass) AS read`,
      [table],
    );
    return Number(rows[0]!.read);
  }

  it("looks items up by their key on a connection that prepared its statements while the mailbox was small, after it grew", async () => {
    const carol = await createAccount(single, { email: "carol.grows@example.com" });
    const { delivered } = await deliverMessage(single, { recipients: [carol.email], bytes: message("grows") });
    const folder = await createFolder(single, { accountId: carol.accountId }, { name: "Kept", parentId: ROOT });
    const work = async (rounds: number) => {
      for (let i = 0; i < rounds; i++) {
        await moveItems(single, { accountId: carol.accountId }, { itemIds: [delivered[0]!.itemId], folderId: i % 2 ? INBOX : folder.itemId });
        await setFlags(single, { accountId: carol.accountId }, { itemIds: [delivered[0]!.itemId], flags: { read: i % 2 === 0 } });
      }
    };
    await work(8);
    const { mailbox } = await snapshot(carol.accountId);
    const items = `${groupSchema(mailbox.group_id)}.item`;
    await store.pool.query(
      `INSERT INTO ${items} (mailbox_id, id, type, folder_id, date, size, change_number)
       SELECT $1, 100000 + g, 'message', $2, now(), 100, 1 FROM generate_series(1, 30000) AS g`,
      [mailbox.id, INBOX],
    );
    const before = await tuplesRead(items);
    await work(3);
    // Six operations, each a few lookups by key: tens of rows, not the mailbox's 30,000 each.
    expect((await tuplesRead(items)) - before).toBeLessThan(500);
  });

  it("finds a delivery's mailboxes by address among many, not by reading them all", async () => {
    const dave = await createAccount(single, { email: "dave.among@example.com" });
    await store.pool.query(
      `INSERT INTO mailstore.mailbox (id, account_id, group_id, email, email_at_creation, item_id_checkpoint)
       SELECT 1000000 + g, gen_random_uuid(), 1, 'filler' || g || '@example.org', 'filler' || g || '@example.org', 0 FROM generate_series(1, 20000) AS g`,
    );
    try {
      const before = await tuplesRead("mailstore.mailbox");
      for (let i = 0; i < 3; i++) await deliverMessage(single, { recipients: [dave.email], bytes: message(`among many ${i}`) });
      expect((await tuplesRead("mailstore.mailbox")) - before).toBeLessThan(100);
    } finally {
      await store.pool.query("DELETE FROM mailstore.mailbox WHERE id > 1000000");
    }
  });
});
