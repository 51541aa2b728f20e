/**
 * playredo: replays a mailbox's redo from the server's archive and current log onto the live
 * mailbox, between two points; records the mailbox already has (change number at or below its
 * own) are passed over, so it brings a mailbox that fell behind its redo forward. Gaps stop it
 * with --stopOnError; otherwise they are replayed around and reported.
 */
import { z } from "zod";
import { InvalidInputError } from "../errors.ts";
import { lockMailbox } from "../mailstore/mailbox-tx.ts";
import { openMailstore } from "../mailstore/mailstore.ts";
import { groupSchema } from "../mailstore/schema.ts";
import { readRedo } from "../redo/read-redo.ts";
import { parseTime } from "../time/parse-time.ts";
import { replay, ReplayError, type ReplayState } from "./replay.ts";

export const playRedoInput = z.object({
  server: z.string().min(1),
  mailbox: z.string().min(1, "name the mailbox: its id or email"),
  fromTime: z.string().optional(),
  toTime: z.string().optional(),
  fromSeq: z.coerce.number().int().positive().optional(),
  toSeq: z.coerce.number().int().positive().optional(),
  stopOnError: z.boolean().default(false),
});

export async function playRedo(raw: z.input<typeof playRedoInput>): Promise<ReplayState & { mailboxId: number; email: string }> {
  const input = playRedoInput.parse(raw);
  const fromTime = input.fromTime ? parseTime(input.fromTime, "from time") : undefined;
  const toTime = input.toTime ? parseTime(input.toTime, "to time") : undefined;
  if (fromTime && toTime && fromTime > toTime) throw new InvalidInputError("the from time is after the to time");
  if (input.fromSeq && input.toSeq && input.fromSeq > input.toSeq) throw new InvalidInputError("fromSeq is after toSeq");
  const store = await openMailstore(input.server);
  const ref = /^\d+$/.test(input.mailbox) ? { mailboxId: Number(input.mailbox) } : { email: input.mailbox };
  const client = await store.pool.connect();
  try {
    await client.query("BEGIN");
    const mailbox = await lockMailbox(client, ref);
    const items = `${groupSchema(mailbox.group_id)}.item`;
    const state: ReplayState = { changeNumber: mailbox.change_number, lastRedoSeq: mailbox.last_redo_seq, applied: 0, skipped: 0, gaps: [] };
    const records = readRedo(store, { mailboxId: mailbox.id, fromSeq: input.fromSeq, toSeq: input.toSeq, fromTime, toTime }, { withBlobs: true });
    await replay(
      {
        client,
        mailboxId: mailbox.id,
        items,
        tombstones: `${groupSchema(mailbox.group_id)}.tombstone`,
        ensureBlob: async (record) => {
          const digest = String(record.payload.digest);
          if (await store.blobs.has(digest)) return;
          if (!record.blob) throw new ReplayError("blob_missing", `redo ${record.seq} needs blob ${digest}, which is neither in the volume nor in the record`);
          await store.blobs.put(record.blob, digest);
        },
      },
      records,
      state,
      { skipDeletes: false, ignoreRedoErrors: !input.stopOnError },
    );
    await client.query(
      `UPDATE mailstore.mailbox SET change_number = $2, last_redo_seq = $3,
              item_id_checkpoint = GREATEST(item_id_checkpoint, (SELECT coalesce(max(id), 0) FROM ${items} WHERE mailbox_id = $1)),
              size_bytes = (SELECT coalesce(sum(size), 0) FROM ${items} WHERE mailbox_id = $1 AND type = 'message')
        WHERE id = $1`,
      [mailbox.id, state.changeNumber, state.lastRedoSeq],
    );
    await client.query("COMMIT");
    return { ...state, mailboxId: mailbox.id, email: mailbox.email };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
