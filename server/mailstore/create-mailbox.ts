import { MailboxExistsError } from "./errors.ts";
import { exactTime, FIRST_USER_ID, SYSTEM_FOLDERS, type MailboxRow } from "./items.ts";
import { commitChange, inTransaction, MailboxTx, type Committed } from "./mailbox-tx.ts";
import type { Mailstore } from "./mailstore.ts";
import { mailboxGroup } from "./schema.ts";

export interface CreateMailboxInput {
  accountId: string;
  email: string;
  quotaBytes?: number;
}

/** A new, empty mailbox with its system folders, in group ((id - 1) mod N) + 1. */
export async function createMailbox(store: Mailstore, input: CreateMailboxInput): Promise<Committed & { groupId: number }> {
  const email = input.email.toLowerCase();
  return inTransaction(store, async (client) => {
    const existing = await client.query("SELECT 1 FROM mailstore.mailbox WHERE account_id = $1 OR email = $2", [input.accountId, email]);
    if (existing.rowCount) throw new MailboxExistsError(email);
    const { rows } = await client.query<MailboxRow>(
      `INSERT INTO mailstore.mailbox (id, account_id, group_id, email, email_at_creation, item_id_checkpoint, quota_bytes)
       SELECT id, $1, (id - 1) % $5 + 1, $2, $2, $3, $4 FROM (SELECT nextval('mailstore.mailbox_id_seq') AS id) n
       RETURNING *`,
      [input.accountId, email, FIRST_USER_ID - 1, input.quotaBytes ?? 0, store.groups],
    );
    const mailbox = rows[0]!;
    if (mailbox.group_id !== mailboxGroup(mailbox.id, store.groups)) throw new Error("mailbox group rule out of step");
    const tx = new MailboxTx(client, mailbox);
    // now() is the transaction's time: one value for every system folder, which the record carries.
    const { rows: made } = await client.query<{ date: string }>(
      `INSERT INTO ${tx.items} (mailbox_id, id, type, parent_id, date, name, change_number)
       SELECT $1, id, 'folder', parent_id, now(), name, $2 FROM unnest($3::bigint[], $4::bigint[], $5::text[]) AS f(id, parent_id, name)
       RETURNING ${exactTime("date")} AS date`,
      [mailbox.id, tx.changeNumber, SYSTEM_FOLDERS.map((f) => f.id), SYSTEM_FOLDERS.map((f) => f.parentId), SYSTEM_FOLDERS.map((f) => f.name)],
    );
    const committed = await commitChange(store, tx, "CreateMailbox", {
      accountId: input.accountId,
      email,
      mailboxId: mailbox.id,
      groupId: mailbox.group_id,
      quotaBytes: input.quotaBytes ?? 0,
      date: made[0]!.date,
    });
    return { ...committed, groupId: mailbox.group_id };
  });
}
