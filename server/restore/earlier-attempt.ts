/**
 * A retried account job (its database connection was lost) must not restore the account twice.
 * The connection can drop after the account's mailstore transaction committed: then the
 * `RestoreMailbox` record naming this run is there. With its directory half committed too, the
 * work is done and its result is rebuilt from that record. Without it (a copy whose directory
 * entry rolled back), the copy's mailbox is an orphan that no account owns: it is removed so the
 * retry can start again from a clean state.
 */
import { consolePool } from "../db/console-db.ts";
import { dropOwnerlessMailbox } from "../mailstore/drop-mailbox.ts";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { groupSchema } from "../mailstore/schema.ts";
import { readRedo } from "../redo/read-redo.ts";
import type { RedoRecord } from "../redo/segment-format.ts";
import type { AccountPlan } from "./plan-restore.ts";
import type { AccountRestoreResult } from "./restore-account.ts";

export async function settleEarlierAttempt(store: Mailstore, run: { label: string; startedAt: Date | null; createdAt: Date }, account: AccountPlan): Promise<AccountRestoreResult | null> {
  // The record is in the current log, or archived since (a backup may have sealed it).
  let done: RedoRecord | undefined;
  for await (const r of readRedo(store, { ops: ["RestoreMailbox"], fromTime: run.startedAt ?? run.createdAt })) {
    if (r.payload.run === run.label && r.payload.sourceAccountId === account.accountId) done = r;
  }
  if (!done) return null;
  const { rows: owners } = await consolePool().query("SELECT 1 FROM account WHERE id = $1", [done.accountId]);
  const { rows: boxes } = await store.pool.query<{ id: number; group_id: number; email: string }>("SELECT id, group_id, email FROM mailstore.mailbox WHERE id = $1", [done.mailboxId]);
  const box = boxes[0];
  if (!box) return null;
  if (owners.length === 0) {
    // The copy's directory entry rolled back: its mailbox belongs to no one; start again.
    await dropOwnerlessMailbox(store, box);
    return null;
  }
  if (account.target.mode === "in-place") await consolePool().query("UPDATE account SET status = 'active', status_reason = NULL, deleted_at = NULL WHERE id = $1", [done.accountId]);
  const { rows: counted } = await store.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${groupSchema(box.group_id)}.item WHERE mailbox_id = $1`, [box.id]);
  const p = done.payload;
  return {
    requested: account.requested,
    accountId: done.accountId,
    target: box.email,
    mailboxId: box.id,
    snapshotItems: counted[0]!.n,
    foldedRows: 0,
    blobsCopied: 0,
    replayed: Number(p.replayed ?? 0),
    skipped: Number(p.skipped ?? 0),
    gaps: (p.gaps as { from: number; to: number }[] | undefined) ?? [],
    changeNumber: done.changeNumber,
    markerSeq: done.seq,
    timings: { prepareMs: 0, blobsMs: 0, loadMs: 0, replayMs: 0, commitMs: 0 },
  };
}
