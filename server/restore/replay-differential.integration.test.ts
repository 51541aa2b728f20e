/**
 * Batched replay against the record-by-record reference: on long random traffic (three seeds of
 * 20,000 operations), each account is restored from its redo alone twice, once per replay mode,
 * into two copies. The copies must be the same row for row: every column of every item (dates to
 * the microsecond), every tombstone, and the mailbox's change number, id checkpoint and size.
 * The batched copy must also hold exactly what the original holds, times included: replay stores
 * the values the records carry, which are the original rows' own.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { generateTraffic } from "../demo/generate-traffic.ts";
import { Random } from "../demo/random.ts";
import { createAccount } from "../mailstore/account-operations.ts";
import { createContact, modifyContact } from "../mailstore/contact-operations.ts";
import { deliverMessage } from "../mailstore/deliver-message.ts";
import { createFolder, renameFolder } from "../mailstore/folder-operations.ts";
import { moveItems, setFlags } from "../mailstore/item-operations.ts";
import { INBOX } from "../mailstore/items.ts";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { useMailServer } from "../testing/mail-server-fixture.ts";
import { storedMailbox } from "./stored-rows.ts";
import { restoreAccount } from "./restore-account.ts";
import type { ReplayMode } from "./replay.ts";
import { planFromInput } from "./submit-restore.ts";

const fx = useMailServer({ settings: { mailboxGroups: 2 } });

/** Everything stored for a mailbox, ids and times included, and the mailbox row's counters. */
const fullRows = (store: Mailstore, email: string) => storedMailbox(store.pool, email);

async function restoreInto(email: string, prefix: string, mode: ReplayMode) {
  const { plan } = await planFromInput({ server: "mail1", accounts: [email], copy: true, prefix, requestedBy: "test" });
  const result = await restoreAccount({ server: "mail1", account: plan.accounts[0]!, skipDeletes: false, ignoreRedoErrors: false, excludeBlobs: false, replayMode: mode });
  return { email: result.target, replayed: result.replayed };
}

const SEEDS = [101, 202, 303];
const accountsOf = new Map<number, { accountId: string; email: string }[]>();

// The three seeds' traffic at once, each on three accounts of its own: one run's worth of waiting.
beforeAll(async () => {
  await Promise.all(
    SEEDS.map(async (seed) => {
      const accounts = [];
      for (let i = 0; i < 3; i++) accounts.push(await createAccount(fx.store, { email: `diff${seed}_${i}@example.com` }));
      accountsOf.set(seed, accounts);
      await generateTraffic(fx.store, { ops: 20_000, seed, renames: false, concurrency: 3, accountIds: accounts.map((a) => a.accountId) });
    }),
  );
}, 900_000);

describe("batched replay", () => {
  it("folds many changes of a few items in one run as record-by-record replay applies them", async () => {
    // Random traffic rarely touches one item twice in a run; this does little else: every flag
    // set and cleared in turn, moves back and forth, renames and contact edits between them.
    const account = await createAccount(fx.store, { email: "hot@example.com" });
    const ref = { accountId: account.accountId };
    const rng = new Random(7);
    const messages: number[] = [];
    for (let i = 0; i < 12; i++) {
      const { delivered } = await deliverMessage(fx.store, { recipients: [account.email], bytes: Buffer.from(`From: a@example.net\r\nSubject: hot ${i}\r\n\r\nbody ${i}\r\n`) });
      messages.push(delivered[0]!.itemId);
    }
    const folder = (await createFolder(fx.store, ref, { name: "Hot" })).itemId;
    const sub = (await createFolder(fx.store, ref, { name: "Sub" })).itemId;
    const contact = (await createContact(fx.store, ref, { fields: { firstName: "Ana", email: "ana@example.net" } })).itemId;
    for (let i = 0; i < 1_500; i++) {
      const ids = [rng.pick(messages), ...(rng.chance(0.3) ? [rng.pick(messages)] : [])];
      const r = rng.next();
      if (r < 0.6) await setFlags(fx.store, ref, { itemIds: [...new Set(ids)], flags: { [rng.pick(["read", "flagged", "deleted"] as const)]: rng.chance(0.5) } });
      else if (r < 0.85) await moveItems(fx.store, ref, { itemIds: [...new Set(ids)], folderId: rng.pick([INBOX, folder, sub]) });
      else if (r < 0.93) await renameFolder(fx.store, ref, { folderId: sub, name: `Sub ${i}`, parentId: rng.pick([INBOX, folder]) });
      else await modifyContact(fx.store, ref, { itemId: contact, fields: { firstName: rng.pick(["Ana", "Ben"]), phone: `+1 555 ${i}` } });
    }
    const reference = await restoreInto(account.email, "refhot_", "reference");
    const batched = await restoreInto(account.email, "bathot_", "batched");
    expect(batched.replayed).toBe(reference.replayed);
    const batchedRows = await fullRows(fx.store, batched.email);
    expect(batchedRows).toEqual(await fullRows(fx.store, reference.email));
    const original = await fullRows(fx.store, account.email);
    expect({ items: batchedRows.items, tombstones: batchedRows.tombstones }).toEqual({ items: original.items, tombstones: original.tombstones });
  }, 300_000);

  it.each(SEEDS)(
    "gives the record-by-record result, row for row, on 20,000 operations of traffic (seed %i)",
    async (seed) => {
      for (const account of accountsOf.get(seed)!) {
        const reference = await restoreInto(account.email, `ref${seed}_`, "reference");
        const batched = await restoreInto(account.email, `bat${seed}_`, "batched");
        expect(batched.replayed).toBe(reference.replayed);
        expect(batched.replayed).toBeGreaterThan(1_000);
        const [referenceRows, batchedRows] = [await fullRows(fx.store, reference.email), await fullRows(fx.store, batched.email)];
        expect(batchedRows.items.length).toBeGreaterThan(100);
        expect(batchedRows.tombstones.length).toBeGreaterThan(10);
        expect(batchedRows).toEqual(referenceRows);
        // And both hold exactly what the original holds, every stored value (times included).
        const original = await fullRows(fx.store, account.email);
        expect({ items: batchedRows.items, tombstones: batchedRows.tombstones }).toEqual({ items: original.items, tombstones: original.tombstones });
      }
    },
    300_000,
  );
});
