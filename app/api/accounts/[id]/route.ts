import { getAccount } from "@/server/directory/get-account.ts";
import { MailvaultError } from "@/server/errors.ts";
import { openMailstore } from "@/server/mailstore/mailstore.ts";
import { mailboxSummary } from "@/server/mailstore/read-mailbox.ts";
import { handle } from "../../_lib/guard.ts";

export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return handle(request, { permission: "read" }, async () => {
    const account = await getAccount(id);
    // A deleted account has no mailbox; a mailstore that cannot be read should not hide the account.
    const mailbox = account.deletedAt
      ? { mailbox: null, mailboxError: null }
      : await openMailstore(account.server)
          .then((store) => mailboxSummary(store, id))
          .then((m) => ({ mailbox: m, mailboxError: null }))
          .catch((error: Error) => ({ mailbox: null, mailboxError: error instanceof MailvaultError ? error.message : `mailstore unavailable: ${error.message}` }));
    return { account, ...mailbox };
  });
}
