/**
 * An account as its console page shows it: the directory entry with every name, its mailbox
 * summary (a deleted account has none; a mailstore that cannot be read does not hide the
 * account, it says why), and, for a prefixed copy, the restore that made it.
 */
import { MailvaultError } from "../errors.ts";
import { openMailstore } from "../mailstore/mailstore.ts";
import { mailboxSummary, type MailboxSummary } from "../mailstore/read-mailbox.ts";
import { copyOrigin, type CopyOrigin } from "../restore/copy-origin.ts";
import { getAccount, type AccountDetail } from "./get-account.ts";

export interface AccountOverview {
  account: AccountDetail;
  mailbox: MailboxSummary | null;
  mailboxError: string | null;
  copyOf: CopyOrigin | null;
}

export async function accountOverview(id: string): Promise<AccountOverview> {
  const account = await getAccount(id);
  const [mailbox, copyOf] = await Promise.all([
    account.deletedAt
      ? { mailbox: null, mailboxError: null }
      : openMailstore(account.server)
          .then((store) => mailboxSummary(store, id))
          .then((m) => ({ mailbox: m, mailboxError: null }))
          .catch((error: Error) => ({ mailbox: null, mailboxError: error instanceof MailvaultError ? error.message : `mailstore unavailable: ${error.message}` })),
    copyOrigin(account.email),
  ]);
  return { account, ...mailbox, copyOf };
}
