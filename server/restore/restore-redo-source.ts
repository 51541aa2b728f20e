/**
 * The redo a restore replays for one account, as one stream in sequence order: the segments
 * held by the backup sessions of the plan, then the server's archive and current log (read under
 * the archive's shared lock), cut at the plan's bounds. Also finds a delivery's message bytes
 * when the target blob volume lacks them: in the record itself, in the record that carried them
 * (`blobSeq`), or in the backup target's blob store.
 */
import { sessionSegmentError } from "../backup/read-session-files.ts";
import type { BackupTarget } from "../backup/target.ts";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { readRedo, readRedoBatches } from "../redo/read-redo.ts";
import { absentDigests } from "../repository/blob-io.ts";
import { readSealedSegment } from "../redo/read-sealed-segment.ts";
import { parseSegmentName, type RedoRecord } from "../redo/segment-format.ts";
import type { AccountPlan } from "./plan-restore.ts";

/**
 * The records of a session's segments, in arrays; damage names the session and the segment's
 * path. Segments outside `fromSeq`..`toSeq` are not opened. Given the account they are read for,
 * or one sequence number, a segment read whole before is read only where those records lie
 * (segment-accounts.ts).
 */
async function* segmentRecords(
  target: BackupTarget,
  label: string,
  filter: (r: RedoRecord) => boolean,
  { withBlobs = true, accountId, fromSeq, toSeq }: { withBlobs?: boolean; accountId?: string; fromSeq?: number; toSeq?: number } = {},
): AsyncGenerator<RedoRecord[]> {
  const accounts = accountId ? [accountId] : fromSeq !== undefined && fromSeq === toSeq ? "any" : undefined;
  for (const { name, object } of await target.sessionSegments(label)) {
    const range = parseSegmentName(name);
    if (range && ((fromSeq !== undefined && range.lastSeq < fromSeq) || (toSeq !== undefined && range.firstSeq > toSeq))) continue;
    const where = target.describe(object);
    try {
      yield* readSealedSegment(name, where, async () => target.segmentReader(object), { accounts, fromSeq, toSeq, keep: filter, withBlobs });
    } catch (error) {
      throw sessionSegmentError(label, where, error);
    }
  }
}

/** The part of the account's redo read from the server's archive and current log: after its sessions' segments, up to its bound. */
function logRange(plan: AccountPlan): { fromSeq: number; toSeq?: number } | null {
  const { redo } = plan;
  if (!redo.archive && !redo.currentLog) return null;
  const base = plan.snapshot ? plan.snapshot.lastRedoSeq : plan.fromCreate!.seq - 1;
  const afterSeq = redo.sessions.at(-1)?.throughSeq ?? redo.archive?.afterSeq ?? base;
  const toSeq = redo.currentLog ? redo.untilSeq : Math.min(redo.untilSeq ?? Infinity, redo.archive!.throughSeq);
  return { fromSeq: afterSeq + 1, ...(toSeq !== null && Number.isFinite(toSeq) ? { toSeq } : {}) };
}

/**
 * The records the plan replays for its account, in sequence order, in arrays (one await per
 * array, not per record: replay reads tens of thousands); `withBlobs: false` leaves the carried
 * message bytes unread. `logged`: the account's records of the archive and current log, already
 * read (`readLoggedRedo`), in place of reading them here.
 */
export async function* accountRedo(plan: AccountPlan, store: Mailstore, target: BackupTarget, { withBlobs = true, logged }: { withBlobs?: boolean; logged?: RedoRecord[] } = {}): AsyncGenerator<RedoRecord[]> {
  const { redo } = plan;
  const untilTime = redo.untilTime ? Date.parse(redo.untilTime) : null;
  const within = (r: RedoRecord) => (redo.untilSeq === null || r.seq <= redo.untilSeq) && (untilTime === null || Date.parse(r.at) <= untilTime);
  const base = plan.snapshot ? plan.snapshot.lastRedoSeq : plan.fromCreate!.seq - 1;
  let last = base;
  const stream = async function* (): AsyncGenerator<RedoRecord[]> {
    for (const s of redo.sessions) {
      yield* segmentRecords(target, s.label, (r) => r.accountId === plan.accountId && r.seq >= s.fromSeq && r.seq <= s.throughSeq, { withBlobs, accountId: plan.accountId, fromSeq: s.fromSeq, toSeq: s.throughSeq });
    }
    const range = logRange(plan);
    if (!range) return;
    if (logged) yield logged;
    else yield* readRedoBatches(store, { accountIds: [plan.accountId], ...range }, { withBlobs });
  };
  for await (const records of stream()) {
    const kept: RedoRecord[] = [];
    let end = false;
    for (const record of records) {
      if (record.seq <= last) continue;
      if (!within(record) || (redo.stopBeforeDeletion && record.op === "DeleteMailbox")) {
        end = true;
        break;
      }
      last = record.seq;
      kept.push(record);
    }
    if (kept.length) yield kept;
    if (end) return;
  }
}

/**
 * The archive's and current log's records of several accounts, read in one pass (a group
 * rebuild's batch would otherwise read the log once per mailbox), by account, without the
 * message bytes; the deliveries among them whose bytes the volume lacks are then written to it
 * in a second pass that holds no more than one array of records at a time (`bodies: false`: not
 * at all). The caller reads it with the mailboxes locked, so no delivery to them can commit
 * between this read and their reload.
 */
export async function readLoggedRedo(plans: AccountPlan[], store: Mailstore, { bodies = true } = {}): Promise<{ logged: Map<string, RedoRecord[]>; written: number }> {
  const ranges = new Map(plans.flatMap((p) => {
    const range = logRange(p);
    return range ? [[p.accountId, range] as const] : [];
  }));
  const logged = new Map<string, RedoRecord[]>([...ranges.keys()].map((id) => [id, []]));
  if (!ranges.size) return { logged, written: 0 };
  const all = [...ranges.values()];
  const filter = {
    accountIds: [...ranges.keys()],
    fromSeq: Math.min(...all.map((r) => r.fromSeq)),
    ...(all.every((r) => r.toSeq !== undefined) ? { toSeq: Math.max(...all.map((r) => r.toSeq!)) } : {}),
  };
  const inRange = (r: RedoRecord) => {
    const range = ranges.get(r.accountId);
    return range !== undefined && r.seq >= range.fromSeq && (range.toSeq === undefined || r.seq <= range.toSeq);
  };
  const lacking = new Set<string>();
  for await (const records of readRedoBatches(store, filter, { withBlobs: false })) {
    for (const r of records) {
      if (!inRange(r)) continue;
      logged.get(r.accountId)!.push(r);
      if (r.op === "DeliverMessage" && typeof r.payload.digest === "string" && !r.payload.blobSeq) lacking.add(r.payload.digest);
    }
  }
  let written = 0;
  if (!bodies) return { logged, written };
  const absent = new Set(await absentDigests(store.blobs.root, [...lacking]));
  if (absent.size) {
    for await (const records of readRedoBatches(store, { ...filter, ops: ["DeliverMessage"] }, { withBlobs: true })) {
      for (const r of records) {
        const digest = String(r.payload.digest);
        if (!r.blob || !absent.has(digest) || !inRange(r)) continue;
        await store.blobs.put(r.blob, digest, { sync: false, knownAbsent: true });
        absent.delete(digest);
        written++;
      }
    }
  }
  return { logged, written };
}

/** How many recorded changes the plan replays for its account. */
export async function countReplayed(plan: AccountPlan, store: Mailstore, target: BackupTarget): Promise<number> {
  let count = 0;
  for await (const records of accountRedo(plan, store, target, { withBlobs: false })) count += records.length;
  return count;
}

/** The message bytes of the record with sequence number `seq` (a delivery that carried them). */
export async function carriedBytes(seq: number, plan: AccountPlan, store: Mailstore, target: BackupTarget): Promise<Buffer | null> {
  for (const s of plan.redo.sessions) {
    if (seq < s.fromSeq || seq > s.throughSeq) continue;
    for await (const [r] of segmentRecords(target, s.label, (r) => r.seq === seq, { fromSeq: seq, toSeq: seq })) return r!.blob ?? null;
  }
  for await (const r of readRedo(store, { fromSeq: seq, toSeq: seq }, { withBlobs: true })) return r.blob ?? null;
  return null;
}
