/**
 * playredo: replays a mailbox's redo from the server's archive and current log onto the live
 * mailbox, between two points; records the mailbox already has (change number at or below its
 * own) are passed over, so it brings a mailbox that fell behind its redo forward. Gaps stop it
 * with --stopOnError; otherwise they are replayed around and reported.
 *
 * With --from-create it rebuilds the mailbox instead: its items are cleared and its whole
 * history replayed from its `CreateMailbox` record, wherever the redo holds it (backup sessions,
 * archive, current log). That is the way back for a mailbox whose row says it is ahead of its
 * items, such as one whose mailbox group came back empty.
 */
import { z } from "zod";
import { InvalidInputError } from "../errors.ts";
import { lockMailbox } from "../mailstore/mailbox-tx.ts";
import { openMailstore } from "../mailstore/mailstore.ts";
import { groupSchema } from "../mailstore/schema.ts";
import { targetHolding } from "../backup/server-targets.ts";
import type { BackupTarget } from "../backup/target.ts";
import { prisma } from "../db/console-db.ts";
import { getServer } from "../directory/list-servers.ts";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { readRedoBatches } from "../redo/read-redo.ts";
import { findMailboxCreations } from "./find-creations.ts";
import { loadCompletedSessions } from "./load-plan-inputs.ts";
import type { AccountPlan } from "./plan-restore.ts";
import { accountRedo, carriedBytes } from "./restore-redo-source.ts";
import { parseTime } from "../time/parse-time.ts";
import { replay, ReplayError, type ReplayState } from "./replay.ts";
import { wholeNumber } from "../validation/whole-number.ts";

export const playRedoInput = z.object({
  server: z.string().min(1),
  mailbox: z.string().min(1, "name the mailbox: its id or email"),
  fromTime: z.string().optional(),
  toTime: z.string().optional(),
  fromSeq: wholeNumber("fromSeq").optional(),
  toSeq: wholeNumber("toSeq").optional(),
  stopOnError: z.boolean().default(false),
  fromCreate: z.boolean().default(false),
});

export async function playRedo(raw: z.input<typeof playRedoInput>): Promise<ReplayState & { mailboxId: number; email: string }> {
  const input = playRedoInput.parse(raw);
  const fromTime = input.fromTime ? parseTime(input.fromTime, "from time") : undefined;
  const toTime = input.toTime ? parseTime(input.toTime, "to time") : undefined;
  if (fromTime && toTime && fromTime > toTime) throw new InvalidInputError("the from time is after the to time");
  if (input.fromSeq && input.toSeq && input.fromSeq > input.toSeq) throw new InvalidInputError("fromSeq is after toSeq");
  if (input.fromCreate && (input.fromSeq || fromTime)) throw new InvalidInputError("--from-create replays from the mailbox's creation: leave out --fromSeq and --fromTime");
  const store = await openMailstore(input.server);
  const rebuild = input.fromCreate ? await historySource(store, input.mailbox, { toSeq: input.toSeq, toTime }) : null;
  const ref = /^\d+$/.test(input.mailbox) ? { mailboxId: Number(input.mailbox) } : { email: input.mailbox };
  const client = await store.pool.connect();
  try {
    await client.query("BEGIN");
    const mailbox = await lockMailbox(client, ref);
    const items = `${groupSchema(mailbox.group_id)}.item`;
    const tombstones = `${groupSchema(mailbox.group_id)}.tombstone`;
    if (rebuild && rebuild.plan.accountId !== mailbox.account_id) throw new InvalidInputError(`${input.mailbox} changed while it was looked up: try again`);
    if (rebuild) {
      await client.query(`DELETE FROM ${items} WHERE mailbox_id = $1`, [mailbox.id]);
      await client.query(`DELETE FROM ${tombstones} WHERE mailbox_id = $1`, [mailbox.id]);
    }
    const state: ReplayState = rebuild
      ? { changeNumber: 0, lastRedoSeq: rebuild.plan.fromCreate!.seq - 1, applied: 0, skipped: 0, gaps: [] }
      : { changeNumber: mailbox.change_number, lastRedoSeq: mailbox.last_redo_seq, applied: 0, skipped: 0, gaps: [] };
    let wroteBlobs = false;
    const records = rebuild
      ? accountRedo(rebuild.plan, store, rebuild.target)
      : readRedoBatches(store, { mailboxId: mailbox.id, fromSeq: input.fromSeq, toSeq: input.toSeq, fromTime, toTime }, { withBlobs: true });
    await replay(
      {
        client,
        mailboxId: mailbox.id,
        items,
        tombstones,
        ensureBlob: async (record) => {
          const digest = String(record.payload.digest);
          if (await store.blobs.has(digest)) return;
          const bytes =
            record.blob ??
            (rebuild && record.payload.blobSeq ? await carriedBytes(Number(record.payload.blobSeq), rebuild.plan, store, rebuild.target) : null) ??
            (rebuild ? await rebuild.target.readBlob(digest).catch(() => null) : null);
          if (!bytes) throw new ReplayError("blob_missing", `redo ${record.seq} needs blob ${digest}, which is neither in the volume nor in the record`);
          await store.blobs.put(bytes, digest, { sync: false });
          wroteBlobs = true;
        },
      },
      records,
      state,
      { skipDeletes: false, ignoreRedoErrors: !input.stopOnError },
    );
    // A rebuild cut short by --toSeq/--toTime keeps the row's change number, so changes made
    // from now on never reuse a number the redo already holds.
    await client.query(
      `UPDATE mailstore.mailbox SET change_number = ${rebuild ? "GREATEST(change_number, $2)" : "$2"}, last_redo_seq = ${rebuild ? "GREATEST(last_redo_seq, $3)" : "$3"},
              item_id_checkpoint = GREATEST(item_id_checkpoint, (SELECT coalesce(max(id), 0) FROM ${items} WHERE mailbox_id = $1)),
              size_bytes = (SELECT coalesce(sum(size), 0) FROM ${items} WHERE mailbox_id = $1 AND type = 'message')
        WHERE id = $1`,
      [mailbox.id, state.changeNumber, state.lastRedoSeq],
    );
    // The bodies the redo brought back, durable by one sync before the rows that name them commit.
    if (wroteBlobs) await store.blobs.syncVolume();
    await client.query("COMMIT");
    return { ...state, mailboxId: mailbox.id, email: mailbox.email };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/**
 * The redo that rebuilds a mailbox from its creation: the backup sessions that hold any of it,
 * then the archive and the current log, as a restore from redo alone reads them.
 */
async function historySource(store: Mailstore, ref: string, bounds: { toSeq?: number; toTime?: Date }): Promise<{ plan: AccountPlan; target: BackupTarget }> {
  const { rows } = await store.pool.query<{ account_id: string; email: string }>(
    `SELECT account_id, email FROM mailstore.mailbox WHERE ${/^\d+$/.test(ref) ? "id = $1::bigint" : "email = lower($1)"}`,
    [ref],
  );
  const mailbox = rows[0];
  if (!mailbox) throw new InvalidInputError(`no mailbox ${ref} on ${store.server}`);
  const server = await getServer(store.server);
  const account = await prisma().account.findUnique({ where: { id: mailbox.account_id } });
  const sessions = (await loadCompletedSessions(server.name, { accountIds: [] })).filter((s) => s.redoFromSeq !== null);
  const target = await targetHolding(server, sessions.map((s) => s.label));
  const creations = await findMailboxCreations({
    store,
    target,
    sessions: sessions.map((s) => s.label),
    accounts: [{ accountId: mailbox.account_id, createdAt: account?.createdAt ?? new Date(0) }],
  });
  const created = creations.get(mailbox.account_id);
  if (!created) throw new InvalidInputError(`the redo no longer holds the creation of ${mailbox.email}: restore it from a full backup instead (restore -a ${mailbox.email})`);
  const chain = sessions.filter((s) => s.redoThroughSeq >= created.seq).map((s) => ({ label: s.label, fromSeq: s.redoFromSeq!, throughSeq: s.redoThroughSeq }));
  const plan: AccountPlan = {
    requested: mailbox.email,
    accountId: mailbox.account_id,
    chosenBecause: "playredo --from-create",
    emailAtPoint: mailbox.email,
    currentEmail: mailbox.email,
    deleted: false,
    snapshot: null,
    fromCreate: { seq: created.seq, at: created.at.toISOString(), quotaBytes: created.quotaBytes },
    redo: {
      sessions: chain,
      archive: { afterSeq: chain.at(-1)?.throughSeq ?? created.seq - 1, throughSeq: 0 },
      currentLog: true,
      untilSeq: bounds.toSeq ?? null,
      untilTime: bounds.toTime?.toISOString() ?? null,
      stopBeforeDeletion: false,
    },
    target: { mode: "in-place", email: mailbox.email },
    gaps: [],
  };
  return { plan, target };
}
