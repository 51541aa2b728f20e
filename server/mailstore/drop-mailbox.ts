/**
 * Removes a mailbox that no account owns, rows and all, in one transaction and with no redo
 * record: an orphan a retried restore left (earlier-attempt.ts), a drill's scratch mailbox or an
 * explore view.
 * Never for an account's mailbox: that is deleted with its `DeleteMailbox` record.
 */
import type { Mailstore } from "./mailstore.ts";
import { groupSchema } from "./schema.ts";

/** A drill's scratch mailboxes (server/drill/run-drill.ts) live under this domain, which no account can have. */
export const SCRATCH_DOMAIN = "drill.mailvault.invalid";
/** Explore views (server/explore/views.ts): a backup's rows made readable, under their own domain. */
export const VIEW_DOMAIN = "view.mailvault.invalid";
/** Matches every mailbox no account owns (drills' and views'): what group and server restores leave out. */
export const OWNERLESS_LIKE = "%@%.mailvault.invalid";

export async function dropOwnerlessMailbox(store: Mailstore, box: { id: number; group_id: number }): Promise<void> {
  const client = await store.pool.connect();
  try {
    await client.query("BEGIN");
    await client.query(`DELETE FROM ${groupSchema(box.group_id)}.item WHERE mailbox_id = $1`, [box.id]);
    await client.query(`DELETE FROM ${groupSchema(box.group_id)}.tombstone WHERE mailbox_id = $1`, [box.id]);
    await client.query("DELETE FROM mailstore.mailbox WHERE id = $1", [box.id]);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
