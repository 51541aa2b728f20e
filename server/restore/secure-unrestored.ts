/**
 * What an in-place restore does with an account it could not restore. Its mailbox is never left
 * broken and in use: when the mailbox is intact (the restore's transaction rolled back) it is kept
 * as it is; when it is gone or has lost its system folders (its mailbox group was dropped, its
 * server rebuilt) the account goes into maintenance with the reason, which the console shows,
 * until an admin restores it some other way. Either way the run reports it as not restored.
 */
import { consolePool } from "../db/console-db.ts";
import { SYSTEM_FOLDERS } from "../mailstore/items.ts";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { groupSchema } from "../mailstore/schema.ts";

export interface NotRestored {
  requested: string;
  accountId: string;
  reason: string;
  /** What was done with the account: its mailbox kept as it was, or the account put in maintenance. */
  action: "kept" | "maintenance";
}

/** Why a mailbox cannot be used as it is, or null when it is intact. */
export async function mailboxDamage(store: Mailstore, accountId: string): Promise<string | null> {
  const { rows } = await store.pool.query<{ id: number; group_id: number }>("SELECT id, group_id FROM mailstore.mailbox WHERE account_id = $1", [accountId]);
  const mailbox = rows[0];
  if (!mailbox) return "it has no mailbox on this server";
  const found = await store.pool
    .query<{ n: number }>(`SELECT count(*)::int AS n FROM ${groupSchema(mailbox.group_id)}.item WHERE mailbox_id = $1 AND id = ANY($2::bigint[])`, [
      mailbox.id,
      SYSTEM_FOLDERS.map((f) => f.id),
    ])
    .then((r) => r.rows[0]!.n, () => null);
  if (found === null) return `its mailbox group ${mailbox.group_id} cannot be read`;
  if (found < SYSTEM_FOLDERS.length) return `its mailbox has lost ${SYSTEM_FOLDERS.length - found} of its ${SYSTEM_FOLDERS.length} system folders`;
  return null;
}

export async function secureUnrestored(
  store: Mailstore,
  runLabel: string,
  accounts: { requested: string; accountId: string; reason: string }[],
): Promise<NotRestored[]> {
  const secured: NotRestored[] = [];
  for (const a of accounts) {
    const damage = await mailboxDamage(store, a.accountId);
    if (damage) {
      await consolePool().query("UPDATE account SET status = 'maintenance', status_reason = $2 WHERE id = $1 AND deleted_at IS NULL", [
        a.accountId,
        `${runLabel} could not restore it (${a.reason}) and ${damage}: restore it from another backup, or reconstruct it`,
      ]);
    }
    secured.push({ ...a, action: damage ? "maintenance" : "kept" });
  }
  return secured;
}

/** `N restored, M not restored: a (why); b (why)`: the last line of a run, in the CLI, the API and the console. */
export function restoreSummary(restored: number, notRestored: { requested: string; reason: string; action?: string }[]): string {
  if (notRestored.length === 0) return `${restored} restored`;
  const listed = notRestored.map((n) => `${n.requested} (${n.reason}${n.action === "maintenance" ? "; put in maintenance" : ""})`).join("; ");
  return `${restored} restored, ${notRestored.length} not restored: ${listed}`;
}
