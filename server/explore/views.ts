/**
 * Exploring a backup without restoring it: an account's mailbox as a session holds it, or as it
 * was at a point in time, made readable. The restore planner plans the account at that point;
 * a worker restores the plan's rows (no bodies) into a hidden mailbox that no account owns
 * (`v<id>@view.mailvault.invalid`), and the mailbox reader, search and message reader then work
 * on it exactly as on a live mailbox. Bodies are read on demand: from the blob volume when it
 * still has them, else from the packs of the sessions the plan reads.
 *
 * Why a hidden mailbox rather than parsing the session's rows in Node: a point in time needs the
 * redo replayed on top of the snapshot, and replay (server/restore/replay.ts) is the one tested
 * implementation of that; the mailstore's indexes then answer folder and search queries.
 *
 * A view is kept while it is used and removed an hour after its last use (or when a server has
 * more than MAX_VIEWS), by the next preparation on that server.
 */
import { open } from "node:fs/promises";
import { z, ZodError } from "zod";
import { targetHolding } from "../backup/server-targets.ts";
import { consolePool } from "../db/console-db.ts";
import { getAccount, type AccountDetail } from "../directory/get-account.ts";
import { getServer } from "../directory/list-servers.ts";
import { accountsByAnyName } from "../directory/resolve-account.ts";
import { InvalidInputError, MailvaultError, ServiceUnavailableError } from "../errors.ts";
import { enqueueJob, serverQueue, serverQueueEvents } from "../jobs/queues.ts";
import { dropOwnerlessMailbox, VIEW_DOMAIN } from "../mailstore/drop-mailbox.ts";
import { openMailstore, type Mailstore } from "../mailstore/mailstore.ts";
import { loadPlanInputs } from "../restore/load-plan-inputs.ts";
import { planRestore, planSessions, RestorePlanError, type AccountPlan, type RestoreRequest } from "../restore/plan-restore.ts";
import { restoreAccount } from "../restore/restore-account.ts";
import { RestoreRefusedError } from "../restore/submit-restore.ts";
import { parseTime } from "../time/parse-time.ts";

/** A view unused this long is removed by the next preparation on its server. */
export const VIEW_IDLE_MS = 60 * 60_000;
/** At most this many views per server; the least recently used go first. */
const MAX_VIEWS = 50;

/** Where to read an account's mail: live (neither), as a session holds it (`label`), or at a time (`at`). */
export const pointInput = z
  .object({
    label: z.string().trim().min(1).max(200).optional(),
    at: z.string().trim().min(1).max(100).optional(),
  })
  .refine((p) => !(p.label && p.at), "read a session (label) or a point in time (at), not both");
export type PointInput = z.input<typeof pointInput>;

/** The mailbox a reader reads, and how to get a message's bytes. */
export interface MailSource {
  kind: "live" | "backup";
  account: Pick<AccountDetail, "id" | "email" | "server" | "deletedAt">;
  store: Mailstore;
  /** The `account_id` of the mailbox row to read (a view's is its own, not the account's). */
  mailboxAccountId: string;
  /** The point in words: "live mailbox", "as backed up in full-…", "as it was at … UTC". */
  description: string;
  label: string | null;
  at: string | null;
  readBlob(digest: string): Promise<Buffer>;
  /** The first 64 KiB of a message (its header block): from the volume without reading the rest. */
  readHead(digest: string): Promise<Buffer>;
}

const HEAD_BYTES = 65_536;

/** Reads a message's head from the volume when it is there, else the whole body through `readBlob`. */
function headReader(store: Mailstore, readBlob: (digest: string) => Promise<Buffer>) {
  return async (digest: string): Promise<Buffer> => {
    const file = await open(store.blobs.path(digest), "r").catch(() => null);
    if (!file) return (await readBlob(digest)).subarray(0, HEAD_BYTES);
    try {
      const buffer = Buffer.alloc(HEAD_BYTES);
      const { bytesRead } = await file.read(buffer, 0, HEAD_BYTES, 0);
      return buffer.subarray(0, bytesRead);
    } finally {
      await file.close();
    }
  };
}

export interface ViewPreparing {
  state: "preparing";
  description: string;
  /** Ask again after this long. */
  retryAfterMs: number;
}

interface ViewRow {
  id: number;
  server: string;
  account_id: string;
  state: "preparing" | "ready" | "failed";
  description: string;
  label: string | null;
  at: Date | null;
  plan: AccountPlan;
  error: string | null;
  mailbox_id: number | null;
  mailbox_account_id: string | null;
  created_at: Date;
  used_at: Date;
}

export class ViewFailedError extends MailvaultError {
  constructor(description: string, reason: string) {
    super("conflict", "view_failed", `the backup could not be read ${description}: ${reason}`);
  }
}

const utc = (d: Date) => `${d.toISOString().slice(0, 19).replace("T", " ")} UTC`;

/** The account meant by `name` on `server` (any name it has had), for the CLI. */
export async function accountOnServer(server: string, name: string): Promise<string> {
  const found = (await accountsByAnyName(name)).filter((a) => a.server === server);
  if (!found.length) throw new InvalidInputError(`${name} is not an account of ${server}`);
  return found[0]!.id;
}

/** What the planner is asked for a view of `point`, and the view's key and words. */
async function viewRequest(server: string, accountId: string, point: { label?: string; at?: string }): Promise<{ key: string; description: string; request: RestoreRequest; at: Date | null }> {
  const base = { server, accounts: [accountId] };
  if (point.label) {
    const { rows } = await consolePool().query<{ type: string; status: string }>(
      "SELECT b.type, b.status FROM backup_session b JOIN server s ON s.id = b.server_id WHERE s.name = $1 AND b.label = $2",
      [server, point.label],
    );
    if (!rows[0]) throw new MailvaultError("not_found", "session_not_found", `no backup session ${point.label} on ${server}`);
    if (rows[0].status !== "completed") throw new InvalidInputError(`${point.label} is ${rows[0].status}, not a completed session: choose a completed one`);
    const request = rows[0].type === "full" ? { ...base, label: point.label, noRedo: true } : { ...base, restoreToIncrLabel: point.label };
    return { key: `${server}:session:${point.label}`, description: `as backed up in ${point.label}`, request, at: null };
  }
  const at = parseTime(point.at!, "time (at)");
  if (at.getTime() > Date.now()) throw new InvalidInputError(`${utc(at)} is in the future: choose a time before now, or read the live mailbox`);
  return { key: `${server}:at:${at.toISOString()}`, description: `as it was at ${utc(at)}`, request: { ...base, restoreToTime: at }, at };
}

async function readView(accountId: string, key: string): Promise<ViewRow | null> {
  const { rows } = await consolePool().query<ViewRow>("SELECT * FROM explore_view WHERE account_id = $1 AND key = $2", [accountId, key]);
  return rows[0] ?? null;
}

/**
 * Removes a view: its row first, and only while `still` holds (idle, failed), so a reader that has
 * just touched it keeps it; then its mailbox. A reader that took its source before the row went
 * finds no mailbox and is told to ask again (MailboxNotFoundError), never reads another's rows.
 */
async function removeView(store: Mailstore, view: Pick<ViewRow, "id">, still = "true"): Promise<boolean> {
  const { rowCount } = await consolePool().query(`DELETE FROM explore_view WHERE id = $1 AND (${still})`, [view.id]);
  if (!rowCount) return false;
  // By name, not by id: a preparer that lost a race (the CLI beside a worker) may have left a second one.
  const { rows } = await store.pool.query<{ id: number; group_id: number }>("SELECT id, group_id FROM mailstore.mailbox WHERE email = $1", [`v${view.id}@${VIEW_DOMAIN}`]);
  for (const box of rows) await dropOwnerlessMailbox(store, box);
  return true;
}

/**
 * The mail source for `accountId` at `point`: the live mailbox, or a view of a backup. A view not
 * yet made is planned here (a refusal is the caller's 4xx at once), then made by a worker; the
 * call waits up to `waitMs` for it, and answers `preparing` after that.
 */
export async function mailSource(accountId: string, raw: PointInput, options: { waitMs?: number; prepareHere?: boolean } = {}): Promise<MailSource | ViewPreparing> {
  // A failure that is no one's mistake (the target, Redis, the database) is a 503 naming what failed, not a 500.
  return openSource(accountId, raw, options).catch((error: unknown) => {
    if (error instanceof MailvaultError || error instanceof ZodError) throw error;
    throw new ServiceUnavailableError("backup reading", (error as Error).message);
  });
}

async function openSource(accountId: string, raw: PointInput, options: { waitMs?: number; prepareHere?: boolean }): Promise<MailSource | ViewPreparing> {
  const point = pointInput.parse(raw);
  const account = await getAccount(accountId);
  const store = await openMailstore(account.server);
  if (!point.label && !point.at) {
    if (account.deletedAt) throw new MailvaultError("not_found", "mailbox_not_found", `${account.email} was deleted on ${utc(new Date(account.deletedAt))}: read it from a backup (choose a session or a time)`);
    const readBlob = (digest: string) => store.blobs.read(digest);
    return { kind: "live", account, store, mailboxAccountId: account.id, description: "live mailbox", label: null, at: null, readBlob, readHead: headReader(store, readBlob) };
  }
  const { key, description, request, at } = await viewRequest(account.server, account.id, point);
  let view = await readView(account.id, key);
  if (view?.state === "failed") {
    // Kept a minute from its failure (used_at), so a page's retries do not rerun a failing restore
    // in a loop; then asked again.
    if (Date.now() - view.used_at.getTime() < 60_000) throw new ViewFailedError(description, view.error ?? "unknown");
    await removeView(store, view, "state = 'failed'");
    view = null;
  }
  if (!view) {
    let plan: AccountPlan;
    try {
      const { inputs } = await loadPlanInputs(account.server, [account.id], { restoreToTime: at ?? undefined });
      plan = planRestore(inputs, { ...request, excludeBlobs: true }).accounts[0]!;
    } catch (error) {
      if (error instanceof RestorePlanError) throw new RestoreRefusedError(error.reasons);
      throw error;
    }
    if (!plan) throw new InvalidInputError(`nothing of ${account.email} can be read ${description}`);
    await consolePool().query(
      `INSERT INTO explore_view (server, account_id, key, label, at, description, plan, state) VALUES ($1, $2, $3, $4, $5, $6, $7, 'preparing')
       ON CONFLICT (account_id, key) DO NOTHING`,
      [account.server, account.id, key, point.label ?? null, at, description, plan],
    );
    view = (await readView(account.id, key))!;
  }
  if (view.state === "preparing") {
    if (options.prepareHere) {
      await prepareView(view.id);
    } else {
      // A deterministic job id: asking again while it runs (or after a worker died) is one job.
      const job = await enqueueJob(account.server, "explore.prepare", { viewId: view.id });
      if (options.waitMs) await job.waitUntilFinished(serverQueueEvents(account.server), options.waitMs).catch(() => {});
      // A job that ended without making the view (its worker killed past its retries, say) would
      // leave it "preparing" for ever, since asking again adds no job: say so on the view instead.
      const ended = await serverQueue(account.server).getJob(job.id!);
      if (ended?.finishedOn) {
        await consolePool().query("UPDATE explore_view SET state = 'failed', error = $2, used_at = now() WHERE id = $1 AND state = 'preparing'", [
          view.id,
          `the worker preparing it stopped: ${ended.failedReason ?? "it ended without making the view"}`,
        ]);
      }
    }
    view = (await readView(account.id, key))!;
    if (view.state === "failed") throw new ViewFailedError(description, view.error ?? "unknown");
    if (view.state === "preparing") return { state: "preparing", description, retryAfterMs: 1_000 };
  }
  // Touched only while it is there and ready: one an idle sweep removed meanwhile is made anew.
  const touched = await consolePool().query("UPDATE explore_view SET used_at = now() WHERE id = $1 AND state = 'ready'", [view.id]);
  if (!touched.rowCount) return openSource(accountId, raw, options);
  const plan = view.plan;
  const server = await getServer(account.server);
  let target: Awaited<ReturnType<typeof targetHolding>> | undefined;
  const readBlob = async (digest: string) => {
    const local = await store.blobs.read(digest).catch(() => null);
    if (local) return local;
    target ??= await targetHolding(server, planSessions(plan), { required: true });
    return target.readBlob(digest);
  };
  return { kind: "backup", account, store, mailboxAccountId: view.mailbox_account_id!, description, label: view.label, at: view.at?.toISOString() ?? null, readBlob, readHead: headReader(store, readBlob) };
}

/**
 * `mailSource` for callers that must have the mail now (downloads, item restores): waits, then
 * refuses. The CLI prepares a view itself (`prepareHere`), so it works with no worker running.
 */
export async function readySource(accountId: string, point: PointInput, options: { waitMs?: number; prepareHere?: boolean } = {}): Promise<MailSource> {
  const source = await mailSource(accountId, point, { waitMs: options.waitMs ?? 120_000, prepareHere: options.prepareHere });
  if ("state" in source) throw new MailvaultError("unavailable", "view_preparing", `the backup is still being read ${source.description}: try again in a moment`);
  return source;
}

/**
 * The worker's side (`explore.prepare`): removes idle views of the server, then restores the
 * view's plan, rows only, into a hidden mailbox. A failure is kept on the view, in words.
 */
export async function prepareView(viewId: number, log: (line: string) => Promise<unknown> = async () => {}): Promise<{ state: string }> {
  const { rows } = await consolePool().query<ViewRow>("SELECT * FROM explore_view WHERE id = $1", [viewId]);
  const view = rows[0];
  if (!view || view.state !== "preparing") return { state: view?.state ?? "gone" };
  const store = await openMailstore(view.server);
  const { rows: idle } = await consolePool().query<ViewRow>(
    `SELECT * FROM explore_view WHERE server = $1 AND id <> $2 AND state <> 'preparing'
        AND (used_at < now() - make_interval(secs => $3) OR id NOT IN (SELECT id FROM explore_view WHERE server = $1 ORDER BY used_at DESC LIMIT $4))`,
    [view.server, view.id, VIEW_IDLE_MS / 1000, MAX_VIEWS],
  );
  for (const old of idle) await removeView(store, old, `used_at < now() - interval '5 minutes'`);
  if (idle.length) await log(`removed ${idle.length} idle view(s)`);
  try {
    const result = await restoreAccount({
      server: view.server,
      account: { ...view.plan, target: { mode: "scratch", email: `v${view.id}@${VIEW_DOMAIN}` } },
      skipDeletes: false,
      ignoreRedoErrors: false,
      excludeBlobs: true,
      rowsOnly: true,
      runLabel: `view-${view.id}`,
    });
    // Conditional: a second preparer (the CLI beside a worker) that lost the race changes nothing.
    await consolePool().query("UPDATE explore_view SET state = 'ready', mailbox_id = $2, mailbox_account_id = $3, used_at = now() WHERE id = $1 AND state = 'preparing'", [view.id, result.mailboxId, result.accountId]);
    await log(`view ${view.id} of ${view.account_id} ${view.description}: ${result.snapshotItems} item(s) from the snapshot, ${result.replayed} change(s) replayed`);
    return { state: "ready" };
  } catch (error) {
    await consolePool().query("UPDATE explore_view SET state = 'failed', error = $2, used_at = now() WHERE id = $1 AND state = 'preparing'", [view.id, (error as Error).message.slice(0, 2000)]);
    await log(`view ${view.id} failed: ${(error as Error).message}`);
    return { state: "failed" };
  }
}
