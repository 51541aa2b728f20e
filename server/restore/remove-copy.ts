/**
 * Removing a prefixed copy once the caller has what they needed. Only an account a restore made
 * as a copy can be removed this way, only with its email typed as confirmation, and helpdesk
 * staff only the copies they made themselves: the originals, and the copies of others, stay out
 * of their reach. The account is deleted as any account is (its mailbox goes, with a
 * `DeleteMailbox` record in the redo), so it lives on in backups and redo like any deleted one.
 */
import type { SessionUser } from "../auth/users.ts";
import { getAccount } from "../directory/get-account.ts";
import { InvalidInputError, MailvaultError } from "../errors.ts";
import { deleteAccount } from "../mailstore/account-operations.ts";
import { openMailstore } from "../mailstore/mailstore.ts";
import { copyOrigin } from "./copy-origin.ts";

export async function removeCopy(accountId: string, input: { confirm?: unknown }, user: Pick<SessionUser, "email" | "role">): Promise<{ removed: string; restoreRun: string }> {
  const account = await getAccount(accountId);
  const origin = account.deletedAt ? null : await copyOrigin(account.email);
  if (!origin) throw new MailvaultError("invalid", "not_a_copy", `${account.email} is not a live copy made by a restore: only such copies can be removed here`);
  if (user.role !== "admin" && origin.requestedBy !== user.email) {
    throw new MailvaultError("forbidden", "forbidden", `${account.email} was made by ${origin.requestedBy || "another user"}: helpdesk staff may remove only the copies they made`);
  }
  if (typeof input.confirm !== "string" || input.confirm.trim().toLowerCase() !== account.email.toLowerCase()) {
    throw new InvalidInputError(`type the copy's email, ${account.email}, to confirm its removal`);
  }
  await deleteAccount(await openMailstore(account.server), { accountId: account.id });
  return { removed: account.email, restoreRun: origin.restoreRun };
}
