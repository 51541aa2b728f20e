/**
 * A reproducible, realistic mix of mailbox operations over a server's mailboxes, through the
 * same operation API that LMTP and the console use: deliveries (some to many recipients, so
 * blobs are shared), reads, flags, tags, moves, deletes, trash emptying, folders, contacts, old
 * mail purges and the occasional account rename. The op mix and every choice come from a seeded
 * PRNG: with --concurrency 1 the same seed replays the same history exactly; with more, the same
 * operations run but may interleave differently.
 */
import { MailvaultError } from "../errors.ts";
import { renameAccount } from "../mailstore/account-operations.ts";
import { createContact, modifyContact } from "../mailstore/contact-operations.ts";
import { deliverMessage } from "../mailstore/deliver-message.ts";
import { createFolder, renameFolder } from "../mailstore/folder-operations.ts";
import { deleteItems, emptyFolder, moveItems, purgeOldMessages, setFlags, tagItems } from "../mailstore/item-operations.ts";
import { CONTACTS, INBOX, TRASH } from "../mailstore/items.ts";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { groupSchema } from "../mailstore/schema.ts";
import { composeMessage } from "./compose-message.ts";
import { Random } from "./random.ts";

const MIX = [
  ["deliver", 40],
  ["read", 18],
  ["flag", 5],
  ["move", 7],
  ["tag", 4],
  ["trash", 6],
  ["delete", 4],
  ["emptyTrash", 1],
  ["createFolder", 4],
  ["renameFolder", 1],
  ["createContact", 4],
  ["modifyContact", 2],
  ["purge", 1],
  ["renameAccount", 0.2],
] as const;

type Kind = (typeof MIX)[number][0];

const FOLDER_NAMES = ["Projects", "Receipts", "Travel", "Clients", "Archive", "Family", "Newsletters", "Team", "Invoices", "Ideas"];
const TAGS = ["work", "personal", "urgent", "later", "finance"];

export interface TrafficOptions {
  ops: number;
  seed: number;
  concurrency?: number;
  /** Include account renames (they also change the directory). Default true. */
  renames?: boolean;
  /** Message dates run from this many days ago up to now, as if the mailboxes had a history. */
  historyDays?: number;
  /** Only these accounts' mailboxes (default: every mailbox of the server). */
  accountIds?: string[];
  onProgress?: (done: number, total: number) => void;
}

export interface TrafficResult {
  ops: number;
  byKind: Record<string, number>;
  refused: number;
  deliveries: number;
  recipients: number;
  deliveredBytes: number;
  seconds: number;
}

interface Box {
  id: number;
  accountId: string;
  email: string;
  groupId: number;
}

function pickKind(rng: Random, renames: boolean): Kind {
  const mix = MIX.filter(([kind]) => renames || kind !== "renameAccount");
  const total = mix.reduce((n, [, w]) => n + w, 0);
  let r = rng.next() * total;
  for (const [kind, weight] of mix) if ((r -= weight) < 0) return kind;
  return "deliver";
}

/** A random item of a mailbox matching a condition, chosen by the fraction r. */
async function pickItem(store: Mailstore, box: Box, where: string, r: number): Promise<number | null> {
  const { rows } = await store.pool.query<{ id: number }>(
    `SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS n, count(*) OVER () AS total
                       FROM ${groupSchema(box.groupId)}.item WHERE mailbox_id = $1 AND ${where}) t
      WHERE n = 1 + floor($2::float8 * total)`,
    [box.id, r],
  );
  return rows[0]?.id ?? null;
}

export async function generateTraffic(store: Mailstore, options: TrafficOptions): Promise<TrafficResult> {
  const started = performance.now();
  const { rows: all } = await store.pool.query<Box>(`SELECT id, account_id AS "accountId", email, group_id AS "groupId" FROM mailstore.mailbox ORDER BY id`);
  const boxes = options.accountIds ? all.filter((b) => options.accountIds!.includes(b.accountId)) : all;
  if (boxes.length === 0) throw new MailvaultError("invalid", "no_mailboxes", `${store.server} has no mailboxes to send traffic to`);
  const result: TrafficResult = { ops: 0, byKind: {}, refused: 0, deliveries: 0, recipients: 0, deliveredBytes: 0, seconds: 0 };
  const master = new Random(options.seed);
  // The plan is drawn up front, in order, so concurrency does not change which operations run.
  const plans = Array.from({ length: options.ops }, (_, i) => ({ i, kind: pickKind(master, options.renames ?? true), seed: Math.floor(master.next() * 2 ** 31) }));
  const historyMs = (options.historyDays ?? 365) * 86_400_000;
  const now = Date.now();
  let renameSerial = 0;

  async function run(plan: (typeof plans)[number]): Promise<void> {
    const rng = new Random(plan.seed);
    const box = boxes[rng.skewed(boxes.length)]!;
    const ref = { accountId: box.accountId };
    const anyMessage = () => pickItem(store, box, "type = 'message'", rng.next());
    switch (plan.kind) {
      case "deliver": {
        const count = rng.chance(0.78) ? 1 : rng.chance(0.8) ? rng.int(2, 5) : rng.int(10, 30);
        const recipients = new Set([box.email]);
        while (recipients.size < Math.min(count, boxes.length)) recipients.add(boxes[rng.skewed(boxes.length)]!.email);
        const date = new Date(now - historyMs + (historyMs * plan.i) / Math.max(1, options.ops));
        const internal = rng.chance(0.25) ? boxes[rng.int(0, boxes.length - 1)]!.email : undefined;
        const message = composeMessage(rng, { to: [...recipients], from: internal, date, serial: options.seed * 1_000_003 + plan.i });
        const delivered = await deliverMessage(store, { recipients: [...recipients], bytes: message.bytes, receivedAt: date });
        result.deliveries++;
        result.recipients += delivered.delivered.length;
        result.deliveredBytes += message.bytes.length;
        return;
      }
      case "read":
      case "flag": {
        const id = await anyMessage();
        if (id) await setFlags(store, ref, { itemIds: [id], flags: plan.kind === "read" ? { read: true } : { flagged: rng.chance(0.7) } });
        return;
      }
      case "move": {
        const id = await anyMessage();
        const folder = (await pickItem(store, box, "type = 'folder' AND id >= 256", rng.next())) ?? INBOX;
        if (id) await moveItems(store, ref, { itemIds: [id], folderId: folder });
        return;
      }
      case "tag": {
        const id = await anyMessage();
        if (id) await tagItems(store, ref, { itemIds: [id], tag: rng.pick(TAGS) });
        return;
      }
      case "trash": {
        const id = await pickItem(store, box, `type = 'message' AND folder_id <> ${TRASH}`, rng.next());
        if (id) await moveItems(store, ref, { itemIds: [id], folderId: TRASH });
        return;
      }
      case "delete": {
        const id = await anyMessage();
        if (id) await deleteItems(store, ref, { itemIds: [id] });
        return;
      }
      case "emptyTrash":
        await emptyFolder(store, ref, { folderId: TRASH });
        return;
      case "createFolder":
        await createFolder(store, ref, { name: rng.pick(FOLDER_NAMES), parentId: rng.chance(0.8) ? undefined : INBOX });
        return;
      case "renameFolder": {
        const folder = await pickItem(store, box, "type = 'folder' AND id >= 256", rng.next());
        if (folder) await renameFolder(store, ref, { folderId: folder, name: `${rng.pick(FOLDER_NAMES)} ${rng.int(2020, 2026)}` });
        return;
      }
      case "createContact":
        await createContact(store, ref, {
          folderId: CONTACTS,
          fields: { firstName: rng.pick(["Ana", "Ben", "Chris", "Dee", "Eli", "Fay"]), lastName: rng.pick(["Ng", "Okafor", "Berg", "Silva"]), email: `contact${rng.int(1, 9999)}@example.net` },
        });
        return;
      case "modifyContact": {
        const id = await pickItem(store, box, "type = 'contact'", rng.next());
        if (id) await modifyContact(store, ref, { itemId: id, fields: { firstName: rng.pick(["Ana", "Ben"]), lastName: rng.pick(["Ng", "Berg"]), phone: `+1 555 ${rng.int(1000, 9999)}` } });
        return;
      }
      case "purge":
        await purgeOldMessages(store, ref, { folderId: INBOX, before: new Date(now - historyMs * 0.9) });
        return;
      case "renameAccount": {
        const [local, domain] = box.email.split("@");
        const newEmail = `${local!.replace(/\.r\d+$/, "")}.r${++renameSerial}${options.seed}@${domain}`;
        const renamed = await renameAccount(store, { accountId: box.accountId, newEmail });
        box.email = renamed.newEmail;
        return;
      }
    }
  }

  let next = 0;
  const worker = async () => {
    while (next < plans.length) {
      const plan = plans[next++]!;
      try {
        await run(plan);
        result.byKind[plan.kind] = (result.byKind[plan.kind] ?? 0) + 1;
      } catch (error) {
        // A refused operation (name taken, item gone meanwhile) changes nothing; count it and go on.
        if (!(error instanceof MailvaultError) || error.kind === "unavailable") throw error;
        result.refused++;
      }
      result.ops++;
      if (result.ops % 500 === 0) options.onProgress?.(result.ops, plans.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
  result.seconds = (performance.now() - started) / 1000;
  return result;
}
