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

/**
 * The records the plan replays for its account, in sequence order, in arrays (one await per
 * array, not per record: replay reads tens of thousands); `withBlobs: false` leaves the carried
 * message bytes unread.
 */
export async function* accountRedo(plan: AccountPlan, store: Mailstore, target: BackupTarget, { withBlobs = true } = {}): AsyncGenerator<RedoRecord[]> {
  const { redo } = plan;
  const untilTime = redo.untilTime ? Date.parse(redo.untilTime) : null;
  const within = (r: RedoRecord) => (redo.untilSeq === null || r.seq <= redo.untilSeq) && (untilTime === null || Date.parse(r.at) <= untilTime);
  const base = plan.snapshot ? plan.snapshot.lastRedoSeq : plan.fromCreate!.seq - 1;
  let last = base;
  const stream = async function* (): AsyncGenerator<RedoRecord[]> {
    for (const s of redo.sessions) {
      yield* segmentRecords(target, s.label, (r) => r.accountId === plan.accountId && r.seq >= s.fromSeq && r.seq <= s.throughSeq, { withBlobs, accountId: plan.accountId, fromSeq: s.fromSeq, toSeq: s.throughSeq });
    }
    if (redo.archive || redo.currentLog) {
      const afterSeq = redo.sessions.at(-1)?.throughSeq ?? redo.archive?.afterSeq ?? base;
      const toSeq = redo.currentLog ? redo.untilSeq : Math.min(redo.untilSeq ?? Infinity, redo.archive!.throughSeq);
      yield* readRedoBatches(store, { accountIds: [plan.accountId], fromSeq: afterSeq + 1, toSeq: Number.isFinite(toSeq) ? (toSeq ?? undefined) : undefined }, { withBlobs });
    }
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
