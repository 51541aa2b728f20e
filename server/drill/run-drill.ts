/**
 * A restore drill: proof, on a schedule, that backups restore. It picks accounts (pick-drill.ts),
 * and for each a point: the latest, or a random point inside the account's recoverable window.
 * It restores the account at that point into a scratch mailbox (one no account owns: nothing
 * lists it, no live account is touched) and compares every stored value with what it must be:
 *
 * - latest: the live mailbox read in one snapshot, at its newest change's redo sequence, which is
 *   the point the restore goes to;
 * - a past point: a second, independent restore of the same point: from the mailbox's creation by
 *   redo alone where the redo still holds it, otherwise from the full before the one the first
 *   restore used, plus redo. With neither (one full, creation no longer in redo), the account is
 *   drilled at its latest state instead, and the evidence says so.
 *
 * The evidence (accounts, points, plans, durations, the RTO per MiB, identical or the first
 * differences) is kept with the drill; the scratch mailboxes are removed at the end, and any a
 * killed drill left behind at the start of the next one.
 */
import { randomInt } from "node:crypto";
import { consolePool, prisma } from "../db/console-db.ts";
import { getServer } from "../directory/list-servers.ts";
import { InvalidInputError, MailvaultError } from "../errors.ts";
import { blobIo } from "../repository/blob-io.ts";
import { openMailstore, type Mailstore } from "../mailstore/mailstore.ts";
import { dropOwnerlessMailbox, SCRATCH_DOMAIN } from "../mailstore/drop-mailbox.ts";
import { loadPlanInputs } from "../restore/load-plan-inputs.ts";
import { targetHolding } from "../backup/server-targets.ts";
import { planRestore, planSessions, RestorePlanError, type AccountPlan, type PlanInputs, type RestoreRequest } from "../restore/plan-restore.ts";
import { restoreAccount } from "../restore/restore-account.ts";
import { storedRows, type StoredRows } from "../restore/stored-rows.ts";
import { mailboxDifferences } from "./compare-mailboxes.ts";
import { pickAccounts, pickBetween, type DrillCandidate } from "./pick-drill.ts";
import { drillRequest, type DrillRequest } from "./submit-drill.ts";

export { SCRATCH_DOMAIN };
const MiB = 1024 * 1024;
const HEARTBEAT_MS = 5_000;

export interface DrillAccountEvidence {
  accountId: string;
  email: string;
  at: "latest" | "random";
  /** Why the point is not the one asked for, when it is not. */
  note?: string;
  point: { seq: number };
  plan: { full: string | null; fromCreate: number | null; redoSessions: string[]; archive: boolean; currentLog: boolean };
  /** How the expected state was made. */
  expected: string;
  restoreMs: number;
  /** Reading the full's message bodies back from the backup and checking them: what a restore onto an empty volume adds. */
  readBackMs: number;
  expectedMs: number;
  items: number;
  bytes: number;
  identical: boolean;
  differences: string[];
  /** The restore (or the expected state's) failed: the drill fails on it. */
  error?: string;
}

export interface DrillOutcome {
  label: string;
  status: "passed" | "failed" | "error" | "skipped";
  summary: string;
}

const random = () => randomInt(0, 2 ** 32) / 2 ** 32;

/** The accounts to drill: the ones named, or N weighted at random among live accounts with a full backup. */
async function chooseAccounts(serverName: string, store: Mailstore, request: DrillRequest): Promise<DrillCandidate[]> {
  const { rows: boxes } = await store.pool.query<{ account_id: string; email: string; size_bytes: string; last_redo_seq: string }>(
    "SELECT account_id, email, size_bytes, last_redo_seq FROM mailstore.mailbox WHERE email NOT LIKE $1",
    [`%@${SCRATCH_DOMAIN}`],
  );
  const { rows: live } = await consolePool().query<{ id: string }>(
    "SELECT a.id FROM account a JOIN server s ON s.id = a.server_id WHERE s.name = $1 AND a.deleted_at IS NULL AND a.status = 'active'",
    [serverName],
  );
  const active = new Set(live.map((r) => r.id));
  const candidates = boxes
    .filter((b) => active.has(b.account_id))
    .map((b) => ({ accountId: b.account_id, email: b.email, sizeBytes: Number(b.size_bytes), lastRedoSeq: Number(b.last_redo_seq) }));
  if (Array.isArray(request.accounts)) {
    const { inputs } = await loadPlanInputs(serverName, request.accounts);
    return request.accounts.map((name) => {
      const holders = inputs.candidates.get(name.trim().toLowerCase()) ?? [];
      const found = candidates.find((c) => holders.some((h) => h.accountId === c.accountId));
      if (!found) throw new InvalidInputError(`${name} is not a live, active account of ${serverName}: drills restore live accounts only`);
      return found;
    });
  }
  const { rows: full } = await consolePool().query<{ account_id: string }>(
    `SELECT DISTINCT a.account_id FROM session_account a JOIN backup_session s ON s.id = a.session_id JOIN server v ON v.id = s.server_id
      WHERE v.name = $1 AND s.status = 'completed' AND a.kind = 'full'`,
    [serverName],
  );
  const backedUp = new Set(full.map((r) => r.account_id));
  const restorable = candidates.filter((c) => backedUp.has(c.accountId));
  if (restorable.length === 0) throw new InvalidInputError(`no live account of ${serverName} has a full backup yet: run a full backup first`);
  return pickAccounts(restorable, request.accounts, random);
}

/** Removes scratch mailboxes (`ids`, or every one a drill left), rows and all, with no redo: no account owns them. */
export async function removeScratch(store: Mailstore, ids?: number[]): Promise<number> {
  const { rows } = await store.pool.query<{ id: number; group_id: number }>(
    "SELECT id, group_id FROM mailstore.mailbox WHERE email LIKE $1 AND ($2::bigint[] IS NULL OR id = ANY($2::bigint[]))",
    [`%@${SCRATCH_DOMAIN}`, ids ?? null],
  );
  for (const box of rows) await dropOwnerlessMailbox(store, box);
  return rows.length;
}

/** The live mailbox in one snapshot: its stored rows and the sequence number of its newest change. */
async function liveSnapshot(store: Mailstore, accountId: string): Promise<{ rows: StoredRows; seq: number }> {
  const client = await store.pool.connect();
  try {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    const { rows } = await client.query<{ id: number; group_id: number; last_redo_seq: string }>("SELECT id, group_id, last_redo_seq FROM mailstore.mailbox WHERE account_id = $1", [accountId]);
    if (!rows[0]) throw new InvalidInputError(`the mailbox of ${accountId} is gone`);
    const stored = await storedRows(client, rows[0]);
    await client.query("COMMIT");
    return { rows: stored, seq: Number(rows[0].last_redo_seq) };
  } finally {
    client.release();
  }
}

interface Restored {
  rows: StoredRows;
  mailboxId: number;
  ms: number;
  bytes: number;
}

/** Restores one plan into a scratch mailbox and reads it back. */
async function restoreScratch(serverName: string, store: Mailstore, plan: AccountPlan, email: string, label: string, scratch: number[]): Promise<Restored> {
  const t0 = performance.now();
  const result = await restoreAccount({
    server: serverName,
    account: { ...plan, target: { mode: "scratch", email } },
    skipDeletes: false,
    ignoreRedoErrors: false,
    excludeBlobs: false,
    runLabel: label,
  });
  const ms = Math.round(performance.now() - t0);
  scratch.push(result.mailboxId);
  const { rows } = await store.pool.query<{ id: number; group_id: number; size_bytes: string }>("SELECT id, group_id, size_bytes FROM mailstore.mailbox WHERE id = $1", [result.mailboxId]);
  return { rows: await storedRows(store.pool, rows[0]!), mailboxId: result.mailboxId, ms, bytes: Number(rows[0]!.size_bytes) };
}

/** Every message's bytes in the volume, hashing to its digest. */
async function blobProblems(store: Mailstore, rows: StoredRows, limit: number): Promise<string[]> {
  const out: string[] = [];
  const itemOf = new Map(rows.items.filter((i) => i.blob_digest).map((i) => [i.blob_digest!, i.id]));
  const digests = [...itemOf.keys()];
  // Read and hashed on the blob I/O threads, a chunk each at a time (the bytes are dropped).
  const chunks: string[][] = [];
  for (let i = 0; i < digests.length; i += 128) chunks.push(digests.slice(i, i + 128));
  let next = 0;
  const check = async () => {
    for (let i = next++; i < chunks.length && out.length < limit; i = next++) {
      const found = await blobIo().run("pack", { root: store.blobs.root, digests: chunks[i]!, compress: false });
      for (const d of found.missing) out.push(`the message body of item ${itemOf.get(d)} (${d.slice(0, 12)}…) is not in the blob volume`);
      for (const m of found.mismatched) out.push(`the message body of item ${itemOf.get(m.digest)} does not match its digest ${m.digest.slice(0, 12)}…`);
    }
  };
  await Promise.all([check(), check()]);
  return out.slice(0, limit);
}

/**
 * The full's message bodies as the backup holds them, each read and checked against its digest:
 * a restore takes only the bodies the volume lacks, so without this a damaged pack would pass.
 */
async function backupBlobProblems(serverName: string, plan: AccountPlan, limit: number): Promise<string[]> {
  if (!plan.snapshot) return [];
  const target = await targetHolding(await getServer(serverName), planSessions(plan), { required: true });
  // Metadata only (backup --exclude-blobs): the bodies are the volume's, checked in the restore.
  if ((await target.readSessionJson<{ excludeBlobs?: boolean }>(plan.snapshot.session))?.excludeBlobs) return [];
  const listed = await target.readSessionFile(plan.snapshot.session, `accounts/${plan.accountId}/blobs.txt`);
  const digests = listed.toString("utf8").split("\n").filter(Boolean);
  const out: string[] = [];
  const missing = await target.checkBlobs(digests, (digest, detail) => void out.push(`${plan.snapshot!.session}'s copy of message body ${digest.slice(0, 12)}…: ${detail}`));
  for (const digest of missing) out.push(`${plan.snapshot.session}'s message body ${digest.slice(0, 12)}… is missing from the backup target`);
  return out.slice(0, limit);
}

/**
 * The plan's session redo, object by object as the target holds it now: each segment there, and
 * together covering each session's range without a hole. (A worker keeps read handles open, so a
 * segment removed under it would still read: the drill asks the target itself.)
 */
async function redoChainProblems(serverName: string, plan: AccountPlan): Promise<string[]> {
  if (plan.redo.sessions.length === 0) return [];
  const target = await targetHolding(await getServer(serverName), planSessions(plan), { required: true });
  const out: string[] = [];
  for (const session of plan.redo.sessions) {
    let next = session.fromSeq;
    for (const segment of await target.sessionSegments(session.label)) {
      if (segment.lastSeq < next) continue;
      if (!(await target.backend.stat(segment.object))) {
        out.push(`${session.label}'s redo segment ${segment.name} is missing from the backup target`);
        continue;
      }
      if (segment.firstSeq > next) out.push(`${session.label}'s redo lacks records ${next} through ${segment.firstSeq - 1}`);
      next = segment.lastSeq + 1;
    }
    if (next <= session.throughSeq) out.push(`${session.label}'s redo lacks records ${next} through ${session.throughSeq}`);
  }
  return out;
}

/** The comparison and the checks of the bodies, with how long reading them back from the backup took. */
async function verdict(ctx: { server: string; store: Mailstore }, expected: StoredRows, restored: StoredRows, plan: AccountPlan): Promise<{ differences: string[]; readBackMs: number }> {
  const differences = [...mailboxDifferences(expected, restored), ...(await blobProblems(ctx.store, restored, 5))];
  const t0 = performance.now();
  differences.push(...(await backupBlobProblems(ctx.server, plan, 5)));
  return { differences, readBackMs: Math.round(performance.now() - t0) };
}

function planSummary(plan: AccountPlan): DrillAccountEvidence["plan"] {
  return {
    full: plan.snapshot?.session ?? null,
    fromCreate: plan.fromCreate?.seq ?? null,
    redoSessions: plan.redo.sessions.map((s) => s.label),
    archive: plan.redo.archive !== null,
    currentLog: plan.redo.currentLog,
  };
}

function onePlan(inputs: PlanInputs, request: RestoreRequest): AccountPlan {
  return planRestore(inputs, request).accounts[0]!;
}

async function drillAccount(ctx: { server: string; store: Mailstore; label: string; n: number; scratch: number[] }, c: DrillCandidate, at: "latest" | "random"): Promise<DrillAccountEvidence> {
  const base = { accountId: c.accountId, email: c.email, at };
  const email = (part: string) => `${ctx.label}-${ctx.n}${part}@${SCRATCH_DOMAIN}`;
  const request = { server: ctx.server, accounts: [c.accountId] };
  // Creations are looked for as if no full existed: a past point may be rebuilt from redo alone.
  const { inputs } = await loadPlanInputs(ctx.server, [c.accountId], { restoreToTime: new Date(0) });
  let note: string | undefined;
  if (at === "random") {
    const live = await ctx.store.pool.query<{ last_redo_seq: string }>("SELECT last_redo_seq FROM mailstore.mailbox WHERE account_id = $1", [c.accountId]);
    const hi = Number(live.rows[0]?.last_redo_seq ?? 0);
    const fulls = inputs.sessions
      .map((s) => ({ label: s.label, lastRedoSeq: s.fulls.get(c.accountId)?.lastRedoSeq }))
      .filter((f): f is { label: string; lastRedoSeq: number } => f.lastRedoSeq !== undefined)
      .sort((a, b) => a.lastRedoSeq - b.lastRedoSeq);
    const creation = inputs.creations?.get(c.accountId);
    // Two ways to the same past point, each planned before it is chosen: the point lies after
    // the oldest full, so the first restore starts from a full; the second replays the whole life
    // from the creation, or starts from an older full. A way the backups and redo cannot give
    // (its redo has a gap, say) is passed over; with none left, the latest state is drilled.
    const options: { lo: number; how: string; request: Partial<RestoreRequest> }[] = [];
    if (creation && fulls.length >= 1) options.push({ lo: fulls[0]!.lastRedoSeq, how: `an independent replay of its whole life from redo alone (CreateMailbox at redo ${creation.seq})`, request: { fromCreate: true } });
    if (fulls.length >= 2) options.push({ lo: fulls[1]!.lastRedoSeq, how: "", request: {} });
    let second: { how: string; request: Partial<RestoreRequest>; first: AccountPlan; other: AccountPlan } | undefined;
    let point = 0;
    const refused: string[] = [];
    for (const option of options.filter((o) => o.lo <= hi)) {
      point = pickBetween(option.lo, hi, random);
      let { how, request: other } = option;
      if (!other.fromCreate) {
        const used = fulls.filter((f) => f.lastRedoSeq <= point).at(-1)!;
        const older = fulls[fulls.indexOf(used) - 1]!;
        how = `a second restore path: ${older.label} plus redo (the first used ${used.label})`;
        other = { label: older.label };
      }
      // The first way is how anyone would restore that point: if it is refused, that is the finding.
      let first: AccountPlan;
      try {
        first = onePlan(inputs, { ...request, restoreToRedoSeq: point });
      } catch (error) {
        if (!(error instanceof RestorePlanError)) throw error;
        return failedEvidence(base, point, null, "", error.reasons);
      }
      if (first.fromCreate) continue; // no full reaches the point after all
      try {
        second = { how, request: other, first, other: onePlan(inputs, { ...request, restoreToRedoSeq: point, ...other }) };
        break;
      } catch (error) {
        if (!(error instanceof RestorePlanError)) throw error;
        refused.push(error.reasons[0]!);
      }
    }
    if (!second) {
      note = options.length
        ? `no second way to a past point the backups and redo give${refused.length ? ` (${refused[0]})` : ""}: drilled at its latest state`
        : "no second way to a past point (one full backup, and the redo no longer holds its creation): drilled at its latest state";
    }
    if (second) {
      try {
        const { first, other } = second;
        const broken = [...(await redoChainProblems(ctx.server, first)), ...(await redoChainProblems(ctx.server, other))];
        if (broken.length) return failedEvidence(base, point, first, second.how, broken);
        const t0 = performance.now();
        const expected = await restoreScratch(ctx.server, ctx.store, other, email("b"), ctx.label, ctx.scratch);
        const expectedMs = Math.round(performance.now() - t0);
        const restored = await restoreScratch(ctx.server, ctx.store, first, email("a"), ctx.label, ctx.scratch);
        const { differences, readBackMs } = await verdict(ctx, expected.rows, restored.rows, first);
        return { ...base, point: { seq: point }, plan: planSummary(first), expected: second.how, restoreMs: restored.ms, readBackMs, expectedMs, items: restored.rows.items.length, bytes: restored.bytes, identical: differences.length === 0, differences };
      } catch (error) {
        // A mailbox restored in place has no history across its reload: drill its latest state.
        if ((error as MailvaultError).code !== "restored_in_place") throw error;
        note = `no second way to redo ${point}: ${(error as Error).message}; drilled at its latest state`;
      }
    }
  }
  const t0 = performance.now();
  const live = await liveSnapshot(ctx.store, c.accountId);
  const expectedMs = Math.round(performance.now() - t0);
  const plan = onePlan(inputs, { ...request, restoreToRedoSeq: live.seq });
  const expectedHow = `the live mailbox, read in one snapshot at redo ${live.seq}`;
  const broken = await redoChainProblems(ctx.server, plan);
  if (broken.length) return failedEvidence({ ...base, ...(note ? { note } : {}) }, live.seq, plan, expectedHow, broken);
  const restored = await restoreScratch(ctx.server, ctx.store, plan, email("a"), ctx.label, ctx.scratch);
  const { differences, readBackMs } = await verdict(ctx, live.rows, restored.rows, plan);
  return {
    ...base,
    ...(note ? { note } : {}),
    point: { seq: live.seq },
    plan: planSummary(plan),
    expected: expectedHow,
    restoreMs: restored.ms,
    readBackMs,
    expectedMs,
    items: restored.rows.items.length,
    bytes: restored.bytes,
    identical: differences.length === 0,
    differences,
  };
}

const NO_PLAN: DrillAccountEvidence["plan"] = { full: null, fromCreate: null, redoSessions: [], archive: false, currentLog: false };

/** An account the drill could not restore at its point: the reasons, before any restore ran. */
function failedEvidence(base: Pick<DrillAccountEvidence, "accountId" | "email" | "at" | "note">, seq: number, plan: AccountPlan | null, expected: string, problems: string[]): DrillAccountEvidence {
  return { ...base, point: { seq }, plan: plan ? planSummary(plan) : NO_PLAN, expected, restoreMs: 0, readBackMs: 0, expectedMs: 0, items: 0, bytes: 0, identical: false, differences: problems.slice(1, 10), error: `the restore cannot run: ${problems[0]}` };
}

/** "3 accounts identical" or "alice@example.com: item 312 ...": the drill's one line. */
function summarize(evidence: DrillAccountEvidence[], rto: number | null): string {
  const bad = evidence.filter((e) => !e.identical);
  const rtoText = rto === null ? "" : `; RTO ${rto.toFixed(2)} s per MiB`;
  if (bad.length === 0) return `${evidence.length} account(s) restored identical to the expected state${rtoText}`;
  return bad.map((e) => `${e.email}: ${e.error ?? e.differences[0]}${e.differences.length > 1 ? ` (and ${e.differences.length - 1} more)` : ""}`).join("; ");
}

export async function runDrill(drillId: number, log: (line: string) => Promise<unknown> = async () => {}): Promise<DrillOutcome> {
  const claimed = await prisma().restoreDrill.updateMany({ where: { id: drillId, status: "queued" }, data: { status: "running", startedAt: new Date(), heartbeatAt: new Date() } });
  const drill = await prisma().restoreDrill.findUniqueOrThrow({ where: { id: drillId } });
  if (claimed.count === 0) return { label: drill.label, status: "skipped", summary: `drill is ${drill.status}` };
  const beat = setInterval(() => void prisma().restoreDrill.update({ where: { id: drillId }, data: { heartbeatAt: new Date() } }).catch(() => {}), HEARTBEAT_MS);
  const scratch: number[] = [];
  let store: Mailstore | undefined;
  let outcome: DrillOutcome;
  const evidence: DrillAccountEvidence[] = [];
  let rto: number | null = null;
  try {
    const server = await getServer(drill.server);
    store = await openMailstore(server.name);
    const left = await removeScratch(store);
    if (left) await log(`removed ${left} scratch mailbox(es) an earlier drill left`);
    const request = drillRequest.parse(drill.request);
    const chosen = await chooseAccounts(server.name, store, request);
    await log(`drilling ${chosen.map((c) => c.email).join(", ")} at ${request.at === "latest" ? "their latest state" : "random points"}`);
    for (const [n, c] of chosen.entries()) {
      const e = await drillAccount({ server: server.name, store, label: drill.label, n, scratch }, c, request.at).catch(
        (error: Error): DrillAccountEvidence => ({
          accountId: c.accountId, email: c.email, at: request.at, point: { seq: 0 }, plan: NO_PLAN,
          expected: "", restoreMs: 0, readBackMs: 0, expectedMs: 0, items: 0, bytes: 0, identical: false, differences: [], error: `the restore failed: ${error.message}`,
        }),
      );
      evidence.push(e);
      await removeScratch(store, scratch.splice(0));
      await log(`${c.email} at redo ${e.point.seq}: ${e.identical ? "identical" : e.error ?? `${e.differences.length} difference(s): ${e.differences[0]}`} (restore ${e.restoreMs} ms, bodies read back ${e.readBackMs} ms, ${(e.bytes / MiB).toFixed(2)} MiB)`);
      await prisma().restoreDrill.update({ where: { id: drillId }, data: { evidence: JSON.parse(JSON.stringify(evidence)) } });
    }
    const measured = evidence.filter((e) => !e.error && e.bytes > 0);
    const bytes = measured.reduce((sum, e) => sum + e.bytes, 0);
    // The RTO as a restore onto an empty volume would see it: the restore plus the bodies read back from the backup.
    rto = bytes ? measured.reduce((sum, e) => sum + e.restoreMs + e.readBackMs, 0) / 1000 / (bytes / MiB) : null;
    const passed = evidence.every((e) => e.identical);
    const fewer = typeof request.accounts === "number" && chosen.length < request.accounts ? ` (${request.accounts} asked; only ${chosen.length} live account(s) have a full backup)` : "";
    outcome = { label: drill.label, status: passed ? "passed" : "failed", summary: summarize(evidence, rto) + fewer };
  } catch (error) {
    outcome = { label: drill.label, status: "error", summary: `the drill could not run: ${(error as Error).message}` };
  } finally {
    clearInterval(beat);
    if (store && scratch.length) await removeScratch(store, scratch).catch(() => {});
  }
  // The outcome and, for a drill that did not pass, its report mail commit together: whoever
  // sees the drill ended finds the mail queued, and a crash between the two loses neither.
  await prisma().$transaction(async (tx) => {
    await tx.restoreDrill.update({
      where: { id: drillId },
      data: { status: outcome.status, summary: outcome.summary, endedAt: new Date(), evidence: JSON.parse(JSON.stringify(evidence)), rtoSecondsPerMib: rto },
    });
    if (outcome.status !== "passed") await tx.reportOutbox.create({ data: { server: drill.server, kind: "drill", label: drill.label, status: outcome.status, detail: outcome.summary } });
  });
  await log(`${drill.label} ${outcome.status}: ${outcome.summary}`);
  return outcome;
}
