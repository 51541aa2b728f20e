/**
 * Copy-back: the second half of the seed's export/import workflow, without tgz files. Chosen
 * folders (with their subfolders) or items of a prefixed copy go back into the original account
 * (server/restore/copy-items.ts), and only into the account the copy was restored from.
 */
import { z } from "zod";
import { InvalidInputError } from "../errors.ts";
import type { ItemRow } from "../mailstore/items.ts";
import { openMailstore, type Mailstore } from "../mailstore/mailstore.ts";
import { groupSchema } from "../mailstore/schema.ts";
import { copyItems, type CopyItemsResult } from "./copy-items.ts";
import { copyOrigin } from "./copy-origin.ts";

export const copyBackInput = z
  .object({
    server: z.string().min(1),
    from: z.string().min(3, "name the copy to copy from"),
    to: z.string().min(3, "name the account to copy into"),
    folders: z.array(z.string().startsWith("/", "folder paths start with /, e.g. /Inbox/Projects")).optional(),
    itemIds: z.array(z.number().int().positive()).optional(),
    onConflict: z.enum(["skip", "replace"]).default("skip"),
  })
  .refine((v) => (v.folders?.length ?? 0) + (v.itemIds?.length ?? 0) > 0, "choose folders (paths) or items to copy back")
  .refine((v) => v.from.toLowerCase() !== v.to.toLowerCase(), "copy back from a copy into another account, not into itself");

export type CopyBackResult = CopyItemsResult;

async function itemsOf(store: Mailstore, email: string): Promise<{ accountId: string; items: ItemRow[] }> {
  const { rows } = await store.pool.query<{ account_id: string; id: number; group_id: number }>("SELECT account_id, id, group_id FROM mailstore.mailbox WHERE email = $1", [email.toLowerCase()]);
  if (!rows[0]) throw new InvalidInputError(`no mailbox ${email} on ${store.server}`);
  const { rows: items } = await store.pool.query<ItemRow>(`SELECT * FROM ${groupSchema(rows[0].group_id)}.item WHERE mailbox_id = $1`, [rows[0].id]);
  return { accountId: rows[0].account_id, items };
}


export async function copyBack(raw: z.input<typeof copyBackInput>): Promise<CopyBackResult> {
  const input = copyBackInput.parse(raw);
  const store = await openMailstore(input.server);
  const source = await itemsOf(store, input.from);
  const target = await itemsOf(store, input.to);
  // Only from a copy a restore made, into the account it was restored from: never between two
  // unrelated mailboxes.
  const origin = await copyOrigin(input.from);
  if (!origin) throw new InvalidInputError(`${input.from} is not a copy made by a restore: copy back takes items from a prefixed copy into the account it copies`);
  if (origin.originalAccountId !== target.accountId) {
    throw new InvalidInputError(`${input.from} is a copy of ${origin.originalEmail} (made by ${origin.restoreRun}), not of ${input.to}: copy back into ${origin.originalEmail}`);
  }
  return copyItems(store, { items: source.items, name: input.from, readBlob: (digest) => store.blobs.read(digest) }, { accountId: target.accountId, email: input.to, items: target.items }, input);
}
