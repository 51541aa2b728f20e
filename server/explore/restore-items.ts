/**
 * Item restore: chosen messages, contacts or folders of a backup (a session, or a point in time,
 * read through an explore view) go back into the live account, into a folder such as
 * `/Recovered 2026-12-04` or back where they were. The console checks the request and makes sure
 * the view is ready; a worker does the copy (`restore.items`) through the normal operations, so
 * every item restored has its redo record and the next backup holds it.
 */
import { z } from "zod";
import { consolePool } from "../db/console-db.ts";
import { getAccount } from "../directory/get-account.ts";
import { InvalidInputError, MailvaultError } from "../errors.ts";
import { enqueueJob, serverQueue, serverQueueEvents } from "../jobs/queues.ts";
import type { ItemRow } from "../mailstore/items.ts";
import { groupSchema } from "../mailstore/schema.ts";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { copyItems, type CopyItemsResult } from "../restore/copy-items.ts";
import { readySource } from "./views.ts";
import { unlessRefused } from "../jobs/run-job.ts";

export const restoreItemsInput = z
  .object({
    accountId: z.uuid("name the account by its id"),
    label: z.string().trim().min(1).optional(),
    at: z.string().trim().min(1).optional(),
    itemIds: z.array(z.number().int().positive()).max(10_000).optional(),
    folders: z.array(z.string().startsWith("/", "folder paths start with /, e.g. /Inbox/Projects")).max(100).optional(),
    /** recovered: below one new folder (`folder`, default "/Recovered <today>"); original: back where each was. */
    into: z.enum(["recovered", "original"]).default("recovered"),
    folder: z
      .string()
      .trim()
      .regex(/^(\/[^/]+)+$/, "the folder is a path like /Recovered 2026-12-04 (no empty parts)")
      .max(200)
      .optional(),
    onConflict: z.enum(["skip", "replace"]).default("skip"),
  })
  .refine((v) => Boolean(v.label) !== Boolean(v.at), "restore items from a session (label) or from a point in time (at): one of them")
  .refine((v) => (v.itemIds?.length ?? 0) + (v.folders?.length ?? 0) > 0, "choose messages (itemIds) or folders to restore")
  .refine((v) => v.into === "recovered" || !v.folder, "a folder is given only with into=recovered");
export type RestoreItemsInput = z.input<typeof restoreItemsInput>;

export interface RestoreItemsResult extends CopyItemsResult {
  account: string;
  from: string;
  into: string;
}

export const recoveredFolder = (now: Date) => `/Recovered ${now.toISOString().slice(0, 10)}`;

async function mailboxItems(store: Mailstore, accountId: string): Promise<ItemRow[]> {
  const { rows } = await store.pool.query<{ id: number; group_id: number }>("SELECT id, group_id FROM mailstore.mailbox WHERE account_id = $1", [accountId]);
  if (!rows[0]) return [];
  return (await store.pool.query<ItemRow>(`SELECT * FROM ${groupSchema(rows[0].group_id)}.item WHERE mailbox_id = $1`, [rows[0].id])).rows;
}

/** The worker's side: copies the chosen items of the view into the live account. */
export async function restoreItemsNow(raw: RestoreItemsInput, now = new Date()): Promise<RestoreItemsResult> {
  const input = restoreItemsInput.parse(raw);
  const source = await readySource(input.accountId, { label: input.label, at: input.at });
  const { account } = source;
  if (account.deletedAt) throw new InvalidInputError(`${account.email} is deleted: restore the account (or a prefixed copy of it) instead of items`);
  const under = input.into === "recovered" ? (input.folder ?? recoveredFolder(now)) : undefined;
  const result = await copyItems(
    source.store,
    { items: await mailboxItems(source.store, source.mailboxAccountId), name: `${account.email} ${source.description}`, readBlob: source.readBlob },
    { accountId: account.id, email: account.email, items: await mailboxItems(source.store, account.id) },
    { itemIds: input.itemIds, folders: input.folders, onConflict: input.onConflict, under },
  );
  return { ...result, account: account.email, from: source.description, into: under ?? "where each item was" };
}

/**
 * The console's side: checks the account and the view (waiting for it, so a refusal comes back
 * as a 4xx), then runs the copy on the account's server and waits up to `waitMs` for it.
 */
export async function restoreItems(raw: RestoreItemsInput, options: { waitMs?: number } = {}): Promise<RestoreItemsResult | { state: "running"; jobId: string }> {
  const input = restoreItemsInput.parse(raw);
  const account = await getAccount(input.accountId);
  if (account.deletedAt) throw new InvalidInputError(`${account.email} is deleted: restore the account (or a prefixed copy of it) instead of items`);
  await readySource(account.id, { label: input.label, at: input.at });
  const { rows } = await consolePool().query<{ id: string }>("SELECT gen_random_uuid()::text AS id");
  const job = await enqueueJob(account.server, "restore.items", { requestId: rows[0]!.id, input });
  const done = await job.waitUntilFinished(serverQueueEvents(account.server), options.waitMs ?? 60_000).then(
    (value: unknown) => ({ value }),
    async (error: Error) => {
      const current = await serverQueue(account.server).getJob(job.id!);
      if (current?.finishedOn) throw new MailvaultError("unavailable", "job_failed", `the item restore failed: ${current.failedReason ?? error.message}`);
      return null;
    },
  );
  if (!done) return { state: "running", jobId: job.id! };
  return unlessRefused<RestoreItemsResult>(done.value);
}
