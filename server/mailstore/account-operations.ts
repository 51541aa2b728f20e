/**
 * Operations that change an account as well as its mailbox: create, rename, delete. The
 * directory (console database) and the mailstore are two databases, so each runs as: open a
 * directory transaction and make the directory change, run the mailbox operation (its own
 * transaction, with its redo record), then commit the directory. A mailbox failure rolls the
 * directory back; the window in which the mailstore has committed and the directory has not is
 * one COMMIT wide, and the redo record then still says what happened.
 */
import { consolePool, inConsoleTransaction } from "../db/console-db.ts";
import { insertAccount, lockAccount, normalizeEmail, recordDeletion, recordRename } from "../directory/accounts.ts";
import { InvalidInputError } from "../errors.ts";
import { createMailbox } from "./create-mailbox.ts";
import { commitChange, inTransaction, lockMailbox, MailboxTx, type Committed } from "./mailbox-tx.ts";
import type { Mailstore } from "./mailstore.ts";

export async function createAccount(
  store: Mailstore,
  input: { email: string; displayName?: string; cos?: string },
): Promise<Committed & { accountId: string; email: string }> {
  return inConsoleTransaction(async (client) => {
    const account = await insertAccount(client, { ...input, server: store.server });
    const committed = await createMailbox(store, { accountId: account.id, email: account.email, quotaBytes: account.quotaBytes });
    return { ...committed, accountId: account.id, email: account.email };
  });
}

/** Gives an account a new email; the directory keeps the old one in the account's name history. */
export async function renameAccount(store: Mailstore, input: { accountId: string; newEmail: string; at?: Date }): Promise<Committed & { oldEmail: string; newEmail: string }> {
  const newEmail = normalizeEmail(input.newEmail);
  const at = input.at ?? new Date();
  return inConsoleTransaction(async (client) => {
    const account = await lockAccount(client, input.accountId);
    if (account.deletedAt) throw new InvalidInputError(`account ${account.email} is deleted`);
    if (account.email === newEmail) throw new InvalidInputError(`the account is already named ${newEmail}`);
    await recordRename(client, account.id, newEmail, at);
    const committed = await inTransaction(store, async (tx) => {
      const mailboxTx = new MailboxTx(tx, await lockMailbox(tx, { accountId: account.id }));
      await tx.query("UPDATE mailstore.mailbox SET email = $2 WHERE id = $1", [mailboxTx.mailbox.id, newEmail]);
      return commitChange(store, mailboxTx, "RenameAccount", { oldEmail: account.email, newEmail, at: at.toISOString() });
    });
    return { ...committed, oldEmail: account.email, newEmail };
  });
}

/**
 * Deletes an account's mailbox (items, tombstones and the mailbox row) and marks the account
 * deleted in the directory. Its backups and redo stay: a deleted account can be restored.
 */
export async function deleteAccount(store: Mailstore, input: { accountId: string; at?: Date }): Promise<Committed & { email: string; deletedItems: number }> {
  const at = input.at ?? new Date();
  return inConsoleTransaction(async (client) => {
    const account = await lockAccount(client, input.accountId);
    if (account.deletedAt) throw new InvalidInputError(`account ${account.email} is already deleted`);
    await recordDeletion(client, account.id, at);
    const committed = await inTransaction(store, async (tx) => {
      const mailbox = await lockMailbox(tx, { accountId: account.id });
      const mailboxTx = new MailboxTx(tx, mailbox);
      const { rowCount } = await tx.query(`DELETE FROM ${mailboxTx.items} WHERE mailbox_id = $1`, [mailbox.id]);
      await tx.query(`DELETE FROM ${mailboxTx.tombstones} WHERE mailbox_id = $1`, [mailbox.id]);
      let seq: number | null = null;
      if (store.redo) {
        const { rows } = await tx.query<{ seq: number }>(
          `INSERT INTO mailstore.redo_log (seq, mailbox_id, account_id, change_number, op, payload)
           VALUES (nextval('mailstore.redo_seq'), $1, $2, $3, 'DeleteMailbox', $4) RETURNING seq`,
          [mailbox.id, mailbox.account_id, mailboxTx.changeNumber, { mailboxId: mailbox.id, email: mailbox.email, items: rowCount, sizeBytes: mailbox.size_bytes, at: at.toISOString() }],
        );
        seq = rows[0]!.seq;
      }
      await tx.query("DELETE FROM mailstore.mailbox WHERE id = $1", [mailbox.id]);
      return { mailboxId: mailbox.id, changeNumber: mailboxTx.changeNumber, seq, deletedItems: rowCount ?? 0 };
    });
    return { ...committed, email: account.email };
  });
}

/** Creates the missing mailboxes of a server's live directory accounts (the demo seed uses it). */
export async function ensureMailboxes(store: Mailstore): Promise<number> {
  const { rows: accounts } = await consolePool().query<{ id: string; email: string; quota_bytes: string }>(
    `SELECT a.id, a.email, c.quota_bytes FROM account a
       JOIN server s ON s.id = a.server_id JOIN class_of_service c ON c.id = a.cos_id
      WHERE s.name = $1 AND a.deleted_at IS NULL ORDER BY a.created_at, a.id`,
    [store.server],
  );
  const { rows: existing } = await store.pool.query<{ account_id: string }>("SELECT account_id FROM mailstore.mailbox");
  const have = new Set(existing.map((r) => r.account_id));
  let created = 0;
  for (const account of accounts) {
    if (have.has(account.id)) continue;
    await createMailbox(store, { accountId: account.id, email: account.email, quotaBytes: Number(account.quota_bytes) });
    created++;
  }
  return created;
}
