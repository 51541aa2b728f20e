/**
 * A backup session, in the three steps its BullMQ flow runs (workers/processors.ts):
 *
 *   start     seal the redo log, move the archived segments this session is responsible for
 *             into it, choose which accounts get a full snapshot, and split them into batches;
 *   accounts  one child job per batch: snapshot each account (backup-account.ts);
 *   finish    the parent, once every child is done: write the global parts, session.json and the
 *             manifest, then publish the session by saving its commit object (manifest.sha256),
 *             update the accounts index, the catalog and last_backup_at, and trim the archive.
 *
 * Every step first checks that the session is still running (it may have been aborted or
 * declared interrupted meanwhile) and keeps its heartbeat fresh. A session that does not reach
 * the commit stays unpublished, marked failed, aborted or interrupted, and no restore reads it.
 */
import { rm, stat } from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { consolePool, inConsoleTransaction } from "../db/console-db.ts";
import { getAccounts } from "../directory/get-account.ts";
import { archiveRedo, listSegments } from "../redo/archive-redo.ts";
import { shippedThrough, shipping, shipRedo } from "../redo/ship-redo.ts";
import { snapshotAccounts, storeAccount, type AccountBackup } from "./backup-account.ts";
import { DUMP_FORMAT, earlierDumps, type EarlierDumps } from "./earlier-dumps.ts";
import { rememberEncryption } from "../directory/update-settings.ts";
import { addProgress, finishSession, lastCompletedThrough, lastFulls, markRunning, updateSession } from "./catalog.ts";
import { checkFreeSpace } from "./free-space.ts";
import { collectRedo, type MovedRedo } from "./move-redo.ts";
import { batchAccounts, selectAccounts, type Selected, type Selection } from "./select-accounts.ts";
import { keepAlive, loadSessionContext, readSessionJsonFile, type SessionContext } from "./session-context.ts";
import { writeSessionDescription, updateAccountsIndex, type SessionDescription } from "./session-files.ts";
import { BackupTarget, type FileEntry } from "./target.ts";
import { directorySnapshot } from "./target-directory.ts";

interface Plan {
  selected: Selected[];
  redo: MovedRedo;
}

async function seal(ctx: SessionContext): Promise<number> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const result = await archiveRedo(ctx.store, {
      force: true,
      maxBytes: ctx.server.settings.redoArchive.maxBytes,
      maxAgeSeconds: ctx.server.settings.redoArchive.maxAgeSeconds,
    });
    if (result.status !== "busy" && result.status !== "waiting-for-transactions") return result.lastArchivedSeq;
    if (Date.now() > deadline) throw new Error(`could not seal the redo log: ${result.status}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The target says what became of the session before the catalog does (the catalog is a cache). */
async function fail(ctx: SessionContext, status: "failed" | "aborted", error: string): Promise<void> {
  await writeSessionDescription(ctx, { status, error }).catch(() => {});
  await finishSession(ctx.session.id, status, { error });
}

export async function startSession(serverName: string, sessionId: number, slots: number): Promise<{ batches: Selected[][] } | { skipped: string }> {
  const running = await markRunning(sessionId);
  if (!running) return { skipped: "the session is no longer queued" };
  // A target that cannot be opened (unreachable, a wrong passphrase, lost keys) fails the session
  // now, with the reason, rather than leaving it running for the sweep to call interrupted.
  let ctx: SessionContext;
  try {
    ctx = await loadSessionContext(serverName, sessionId);
  } catch (error) {
    await finishSession(sessionId, "failed", { error: (error as Error).message });
    return { skipped: (error as Error).message };
  }
  const alive = keepAlive(sessionId);
  try {
    await checkFreeSpace(ctx.server.backupTarget, { bytes: ctx.server.settings.minFreeBytes, percent: ctx.server.settings.minFreePercent });
    await ctx.target.init();
    // A target encrypted before the directory kept that is recorded now: it must stay encrypted.
    await rememberEncryption(ctx.server, ctx.server.backupTarget, await ctx.target.backend.encrypted());
    await writeSessionDescription(ctx, { status: "running" });
    await setPhase(sessionId, "sealing");
    const throughSeq = await seal(ctx);
    // With redo shipping on, what was just sealed goes to the targets now, and the session refers
    // to it on the primary rather than holding a second copy. A slow copy target finishes in the
    // background (the archive job retries one that fails).
    // Should shipping fail altogether, the session holds the segments itself (collectRedo).
    if (shipping(ctx.server)) await shipRedo(ctx.server, { now: true, awaitPrimary: true, waitMs: 10_000 }).catch(() => []);
    await setPhase(sessionId, "redo");
    const redo = await collectRedo(ctx.store, ctx.target, ctx.label, await lastCompletedThrough(ctx.serverId), throughSeq);

    const { rows: candidates } = await consolePool().query<{ id: string; email: string }>(
      "SELECT id, email FROM account WHERE server_id = $1 AND deleted_at IS NULL ORDER BY email",
      [ctx.serverId],
    );
    // Only accounts with a mailbox here can be snapshotted (the directory may list one being created).
    const { rows: mailboxes } = await ctx.store.pool.query<{ account_id: string; change_number: string; last_redo_seq: string | null }>(
      "SELECT account_id, change_number, last_redo_seq FROM mailstore.mailbox",
    );
    const mailboxOf = new Map(mailboxes.map((m) => [m.account_id, m]));
    const fulls = await lastFulls(ctx.serverId);
    const selection: Selection =
      ctx.session.type === "full" && ctx.session.mode !== "auto_grouped"
        ? { kind: "full", requested: ctx.session.requestedAccounts }
        : ctx.session.mode === "auto_grouped"
          ? { kind: "auto", groups: ctx.server.settings.autoGrouped.groups, throttle: ctx.server.settings.autoGrouped.throttle }
          : { kind: "incremental" };
    const selected = selectAccounts(
      candidates.filter((c) => mailboxOf.has(c.id)).map((c) => ({ accountId: c.id, email: c.email, lastFullAt: fulls.get(c.id)?.at ?? null })),
      selection,
    );
    const plan: Plan = { selected, redo };
    await ctx.target.writeSessionFile(ctx.label, "plan.json", Buffer.from(JSON.stringify(plan, null, 2)));
    await updateSession(sessionId, {
      phase: "accounts",
      phaseStartedAt: new Date(),
      accountsTotal: selected.length,
      redoFromSeq: redo.fromSeq,
      redoThroughSeq: redo.throughSeq,
      redoSegments: redo.segments.length,
    });
    if (alive.signal.aborted) throw alive.signal.reason;
    // A guess from the catalog, for the batch sizes only: the batch decides on the snapshot itself.
    const unchanged = (s: Selected) => {
      const full = fulls.get(s.accountId);
      const mailbox = mailboxOf.get(s.accountId);
      return !!full && !!mailbox && full.changeNumber === Number(mailbox.change_number) && full.redoSeq === Number(mailbox.last_redo_seq);
    };
    return { batches: batchAccounts(selected, slots, { light: unchanged }) };
  } catch (error) {
    const aborted = alive.signal.aborted;
    await fail(ctx, aborted ? "aborted" : "failed", aborted ? "aborted on request" : (error as Error).message);
    return { skipped: (error as Error).message };
  } finally {
    alive.stop();
  }
}

export type AccountOutcome = AccountBackup | { accountId: string; skipped: string } | { accountId: string; email: string; error: string };

export async function backupAccounts(serverName: string, sessionId: number, accounts: Selected[]): Promise<AccountOutcome[]> {
  const ctx = await loadSessionContext(serverName, sessionId);
  if (ctx.session.status !== "running") return accounts.map((a) => ({ accountId: a.accountId, skipped: `session is ${ctx.session.status}` }));
  const alive = keepAlive(sessionId);
  const outcomes: (AccountOutcome | (AccountBackup & { digests: string[] }))[] = [];
  // One connection and one directory query for the whole batch.
  const client = await ctx.store.pool.connect();
  const directory = await getAccounts(accounts.map((a) => a.accountId));
  // One pack writer per batch: its packs and then its index object are saved when the batch
  // ends, before its accounts count as backed up.
  const writer = await ctx.target.blobWriter();
  const progress = { accounts: 0, bytes: 0, current: "", at: performance.now() };
  const reportProgress = async () => {
    const delta = { accounts: progress.accounts, bytes: progress.bytes, current: progress.current };
    Object.assign(progress, { accounts: 0, bytes: 0, at: performance.now() });
    if (delta.accounts) await addProgress(sessionId, delta);
  };
  try {
    let snapshots: Awaited<ReturnType<typeof snapshotAccounts>>;
    let earlier: EarlierDumps;
    try {
      earlier = await earlierDumps(ctx.target, ctx.serverId, accounts.map((a) => a.accountId));
      snapshots = await snapshotAccounts({ store: ctx.store, client, target: ctx.target, label: ctx.label, accounts, earlier, signal: alive.signal });
    } catch (error) {
      const reason = alive.signal.aborted ? "session aborted" : (error as Error).message;
      return accounts.map((a) => ({ accountId: a.accountId, email: a.email, error: reason }));
    }
    // Two accounts' blobs at a time, so the I/O threads always have the next chunk waiting.
    const results: (typeof outcomes)[number][] = new Array(snapshots.length);
    let next = 0;
    const storeNext = async () => {
      for (let i = next++; i < snapshots.length; i = next++) {
        const snapshot = snapshots[i]!;
        const email = accounts[i]!.email;
        if (alive.signal.aborted) {
          results[i] = { accountId: snapshot.accountId, skipped: "session aborted" };
          continue;
        }
        if ("skipped" in snapshot) {
          results[i] = snapshot;
          continue;
        }
        try {
          const result = await storeAccount(snapshot, {
            store: ctx.store,
            target: ctx.target,
            directory: directory.get(snapshot.accountId) ?? null,
            compress: ctx.server.settings.backupCompression,
            excludeBlobs: ctx.session.excludeBlobs,
            earlier,
            signal: alive.signal,
            writer,
          });
          results[i] = result;
          progress.accounts++;
          progress.bytes += result.files.reduce((n, f) => n + f.size, 0) + result.newBlobBytes;
          progress.current = email;
          // The catalog's progress moves about once a second, not once an account.
          if (performance.now() - progress.at > 1000) await reportProgress();
        } catch (error) {
          results[i] = { accountId: snapshot.accountId, email, error: alive.signal.aborted ? "session aborted" : (error as Error).message };
        }
      }
    };
    await Promise.all([storeNext(), storeNext()]);
    outcomes.push(...results);
    await reportProgress();
    try {
      await writer.close();
    } catch (error) {
      // The blobs of this batch are not all safely stored: none of its accounts is backed up.
      return outcomes.map((o) => ("files" in o ? { accountId: o.accountId, email: o.email, error: `its blobs could not be stored: ${(error as Error).message}` } : o));
    }
    // Each account's digest list stays here: the finish step is handed only the blobs this
    // batch did not see stored, so it need not read every account's list again.
    const repo = await ctx.target.repository();
    return outcomes.map((o) => {
      if (!("digests" in o)) return o;
      const { digests, ...backup } = o;
      const missing = new Set(backup.missingBlobs);
      return { ...backup, unconfirmedBlobs: digests.filter((d) => !missing.has(d) && !writer.stored(d) && !repo.has(d)) };
    });
  } finally {
    client.release();
    alive.stop();
  }
}

/** The session's phase (sealing, redo, accounts, publishing), for the console's progress. */
function setPhase(sessionId: number, phase: string): Promise<void> {
  return updateSession(sessionId, { phase, phaseStartedAt: new Date() });
}

async function trimArchive(ctx: SessionContext, throughSeq: number): Promise<string[]> {
  const keepMs = ctx.server.settings.redoKeepSeconds * 1000;
  // A segment some target still lacks stays until it is shipped (ship-redo.ts).
  const shipped = await shippedThrough(ctx.server);
  const removed: string[] = [];
  for (const segment of await listSegments(ctx.store.redoArchivePath)) {
    if (segment.lastSeq > throughSeq || segment.lastSeq > shipped) continue;
    const file = path.join(ctx.store.redoArchivePath, segment.name);
    const age = Date.now() - (await stat(file)).mtimeMs;
    if (age < keepMs) continue;
    await rm(file, { force: true });
    removed.push(segment.name);
  }
  return removed;
}

/** A file this session wrote, before its manifest exists: where its account's outcome says it is. */
function readOwnFile(ctx: SessionContext, files: FileEntry[], relative: string): Promise<Buffer> {
  const object = files.find((f) => f.path === relative)?.object;
  return object ? ctx.target.backend.read(object) : ctx.target.readSessionFile(ctx.label, relative);
}

/**
 * Blobs named by the session's accounts that no index names (other workers' packs included):
 * those their batches could not confirm (every blob, for outcomes that do not say).
 */
async function unstoredBlobs(ctx: SessionContext, done: AccountBackup[]): Promise<string[]> {
  if (ctx.session.excludeBlobs) return []; // metadata only: the bodies are not the target's to hold
  const unconfirmed: string[] = [];
  for (const d of done) {
    const list = d.unconfirmedBlobs ?? (await readOwnFile(ctx, d.files, `accounts/${d.accountId}/blobs.txt`)).toString("utf8").split("\n");
    const missing = new Set(d.missingBlobs);
    for (const digest of list) if (digest && !missing.has(digest)) unconfirmed.push(digest);
  }
  if (!unconfirmed.length) return [];
  const repo = await ctx.target.repository({ reload: true });
  const unstored: string[] = [];
  for (const digest of unconfirmed) if (!repo.has(digest) && !(await ctx.target.hasBlob(digest))) unstored.push(digest);
  return unstored;
}

export async function finishSessionJob(serverName: string, sessionId: number, outcomes: AccountOutcome[], lostChildren: string[]): Promise<{ status: string; label: string }> {
  const ctx = await loadSessionContext(serverName, sessionId);
  const label = ctx.session.label;
  if (ctx.session.status !== "running") return { status: ctx.session.status, label };
  if (ctx.session.abortRequested) {
    await fail(ctx, "aborted", "aborted on request");
    return { status: "aborted", label };
  }
  const alive = keepAlive(sessionId);
  try {
    const plan = await readSessionJsonFile<Plan>(ctx, "plan.json");
    const done = outcomes.filter((o): o is AccountBackup => "files" in o);
    const errors = outcomes.filter((o): o is { accountId: string; email: string; error: string } => "error" in o);
    const missing = plan.selected.filter((s) => !outcomes.some((o) => o.accountId === s.accountId));
    const skipped = outcomes.filter((o): o is { accountId: string; skipped: string } => "skipped" in o);
    const warnings = [
      ...done.filter((d) => d.missingBlobs.length).map((d) => `${d.email}: ${d.missingBlobs.length} blob(s) missing from the blob volume`),
      ...skipped.map((s) => `${s.accountId}: skipped (${s.skipped})`),
    ];
    if (errors.length || missing.length || lostChildren.length) {
      const problems = [
        ...errors.map((e) => `${e.email}: ${e.error}`),
        ...missing.map((m) => `${m.email}: not backed up (its job failed)`),
        ...lostChildren,
      ];
      await fail(ctx, "failed", problems.slice(0, 20).join("; "));
      return { status: "failed", label };
    }

    // Never publish a session with a blob the target cannot give back: every blob its accounts
    // name must be in a pack an index names (or a format-1 file).
    const unstored = await unstoredBlobs(ctx, done);
    if (unstored.length) {
      await fail(ctx, "failed", `${unstored.length} blob(s) the session needs are not in the target (${unstored.slice(0, 3).join(", ")}); nothing was published`);
      return { status: "failed", label };
    }
    const added = { count: done.reduce((n, d) => n + d.newBlobs, 0), bytes: done.reduce((n, d) => n + d.newBlobBytes, 0) };
    await setPhase(ctx.session.id, "publishing");

    const files: FileEntry[] = [...plan.redo.segments, ...done.flatMap((d) => d.files)];
    files.push(await ctx.target.writeSessionFile(ctx.label, "plan.json", Buffer.from(JSON.stringify(plan, null, 2))));
    files.push(await ctx.target.writeSessionFile(ctx.label, "global/directory.json.gz", gzipSync(Buffer.from(JSON.stringify(await directorySnapshot(ctx.serverId))))));
    const fullIds = new Set(done.map((d) => d.accountId));
    const redoOnly = plan.redo.accountIds.filter((id) => !fullIds.has(id));
    const { rows: redoEmails } = await consolePool().query<{ id: string; email: string }>("SELECT id, email FROM account WHERE id = ANY($1::uuid[])", [redoOnly]);
    const description: Partial<SessionDescription> = {
      status: "completed",
      endedAt: new Date().toISOString(),
      dumps: DUMP_FORMAT,
      redo: { fromSeq: plan.redo.fromSeq, throughSeq: plan.redo.throughSeq, segments: plan.redo.segments.map((s) => path.basename(s.path)), shipped: plan.redo.shipped ?? [] },
      accounts: [
        ...done.map((d) => ({
          accountId: d.accountId,
          email: d.email,
          kind: "full" as const,
          reason: d.reason,
          changeNumber: d.changeNumber,
          lastRedoSeq: d.lastRedoSeq,
          fingerprint: d.fingerprint,
          ...(d.dumpsFrom ? { dumpsFrom: d.dumpsFrom } : {}),
          snapshotAt: d.snapshotAt,
          items: d.items,
          messages: d.messages,
          blobs: d.blobs,
          blobBytes: d.blobBytes,
          missingBlobs: d.missingBlobs.length,
        })),
        ...redoEmails.map((r) => ({ accountId: r.id, email: r.email, kind: "redo" as const, reason: "changes in this session's redo" })),
      ],
      counts: {
        accounts: done.length + redoEmails.length,
        fulls: done.length,
        dumpsShared: done.filter((d) => d.dumpsFrom).length,
        items: done.reduce((n, d) => n + d.items, 0),
        messages: done.reduce((n, d) => n + d.messages, 0),
        blobsReferenced: done.reduce((n, d) => n + d.blobs, 0),
        blobBytesReferenced: done.reduce((n, d) => n + d.blobBytes, 0),
        blobsNew: added.count,
        blobBytesNew: added.bytes,
        bytesWritten: files.reduce((n, f) => n + f.size, 0) + added.bytes,
      },
      warnings,
    };
    const commit = (await writeSessionDescription(ctx, description, files))!;
    if (alive.signal.aborted) throw alive.signal.reason;

    await ctx.target.publish(label, commit);
    // The target is complete (accounts index included) before the catalog says the session is.
    await updateAccountsIndex(ctx.target, label, description.accounts!);
    await recordCompleted(ctx, description, done);
    const trimmed = await trimArchive(ctx, plan.redo.throughSeq);
    return { status: "completed", label, ...{ trimmedSegments: trimmed.length } };
  } catch (error) {
    const aborted = alive.signal.aborted;
    await fail(ctx, aborted ? "aborted" : "failed", aborted ? "aborted on request" : (error as Error).message);
    return { status: aborted ? "aborted" : "failed", label };
  } finally {
    alive.stop();
    BackupTarget.endSession(ctx.target.root, label);
  }
}

async function recordCompleted(ctx: SessionContext, description: Partial<SessionDescription>, done: AccountBackup[]): Promise<void> {
  const accounts = description.accounts!;
  const counts = description.counts!;
  const column = <T>(pick: (a: (typeof accounts)[number]) => T) => accounts.map(pick);
  await inConsoleTransaction(async (client) => {
    // One statement for every account of the session (a full of 10,000 accounts included).
    await client.query(
      `INSERT INTO session_account (session_id, account_id, email, kind, reason, change_number, redo_seq, snapshot_at, items, messages, bytes)
       SELECT $1, * FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::timestamptz[], $9::int[], $10::int[], $11::bigint[])`,
      [
        ctx.session.id,
        column((a) => a.accountId),
        column((a) => a.email),
        column((a) => a.kind),
        column((a) => a.reason),
        column((a) => a.changeNumber ?? null),
        column((a) => a.lastRedoSeq ?? null),
        column((a) => a.snapshotAt ?? null),
        column((a) => a.items ?? 0),
        column((a) => a.messages ?? 0),
        column((a) => a.blobBytes ?? 0),
      ],
    );
    await client.query(
      `UPDATE backup_session SET status = 'completed', ended_at = $2, current_account = NULL, bytes_written = $3, blobs_referenced = $4,
              blob_bytes_referenced = $5, blobs_new = $6, blob_bytes_new = $7, warnings = $8::jsonb WHERE id = $1`,
      [ctx.session.id, description.endedAt, counts.bytesWritten, counts.blobsReferenced, counts.blobBytesReferenced, counts.blobsNew, counts.blobBytesNew, JSON.stringify(description.warnings ?? [])],
    );
  });
  // last_backup_at moves only for accounts a completed session holds a full snapshot of.
  if (done.length) {
    await ctx.store.pool.query("UPDATE mailstore.mailbox SET last_backup_at = $2 WHERE account_id = ANY($1::uuid[])", [done.map((d) => d.accountId), description.endedAt]);
  }
}
