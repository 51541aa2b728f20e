/**
 * The redo a restore replays for one account, as one stream in sequence order: the segments
 * held by the backup sessions of the plan, then the server's archive and current log (read under
 * the archive's shared lock), cut at the plan's bounds. Also finds a delivery's message bytes
 * when the target blob volume lacks them: in the record itself, in the record that carried them
 * (`blobSeq`), or in the backup target's blob store.
 */
import { open } from "node:fs/promises";
import path from "node:path";
import { sessionSegmentError } from "../backup/read-session-files.ts";
import type { BackupTarget } from "../backup/target.ts";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { listSegments } from "../redo/archive-redo.ts";
import { readRedo } from "../redo/read-redo.ts";
import { readSegment, type RedoRecord } from "../redo/segment-format.ts";
import type { AccountPlan } from "./plan-restore.ts";

/** The records of a session's segments; damage names the session and the segment's path. */
async function* segmentRecords(dir: string, names: string[], filter: (r: RedoRecord) => boolean): AsyncGenerator<RedoRecord> {
  for (const name of names) {
    const where = path.join(dir, name);
    const file = await open(where, "r").catch((error: unknown) => {
      throw sessionSegmentError(where, error);
    });
    try {
      for await (const entry of readSegment(name, file, { withBlobs: true })) if ("record" in entry && filter(entry.record)) yield entry.record;
    } catch (error) {
      throw sessionSegmentError(where, error);
    } finally {
      await file.close();
    }
  }
}

async function sessionSegments(target: BackupTarget, label: string): Promise<{ dir: string; names: string[] }> {
  const dir = path.join(target.sessionDir(label, "complete"), "redologs");
  return { dir, names: (await listSegments(dir)).map((s) => s.name) };
}

export async function* accountRedo(plan: AccountPlan, store: Mailstore, target: BackupTarget): AsyncGenerator<RedoRecord> {
  const { redo } = plan;
  const untilTime = redo.untilTime ? Date.parse(redo.untilTime) : null;
  const within = (r: RedoRecord) => (redo.untilSeq === null || r.seq <= redo.untilSeq) && (untilTime === null || Date.parse(r.at) <= untilTime);
  const base = plan.snapshot ? plan.snapshot.lastRedoSeq : plan.fromCreate!.seq - 1;
  let last = base;
  const stream = async function* (): AsyncGenerator<RedoRecord> {
    for (const s of redo.sessions) {
      const { dir, names } = await sessionSegments(target, s.label);
      yield* segmentRecords(dir, names, (r) => r.accountId === plan.accountId && r.seq >= s.fromSeq && r.seq <= s.throughSeq);
    }
    if (redo.archive || redo.currentLog) {
      const afterSeq = redo.sessions.at(-1)?.throughSeq ?? redo.archive?.afterSeq ?? base;
      const toSeq = redo.currentLog ? redo.untilSeq : Math.min(redo.untilSeq ?? Infinity, redo.archive!.throughSeq);
      yield* readRedo(store, { accountIds: [plan.accountId], fromSeq: afterSeq + 1, toSeq: Number.isFinite(toSeq) ? (toSeq ?? undefined) : undefined }, { withBlobs: true });
    }
  };
  for await (const record of stream()) {
    if (record.seq <= last) continue;
    if (!within(record)) return;
    if (redo.stopBeforeDeletion && record.op === "DeleteMailbox") return;
    last = record.seq;
    yield record;
  }
}

/** The message bytes of the record with sequence number `seq` (a delivery that carried them). */
export async function carriedBytes(seq: number, plan: AccountPlan, store: Mailstore, target: BackupTarget): Promise<Buffer | null> {
  for (const s of plan.redo.sessions) {
    if (seq < s.fromSeq || seq > s.throughSeq) continue;
    const { dir, names } = await sessionSegments(target, s.label);
    for await (const r of segmentRecords(dir, names, (r) => r.seq === seq)) return r.blob ?? null;
  }
  for await (const r of readRedo(store, { fromSeq: seq, toSeq: seq }, { withBlobs: true })) return r.blob ?? null;
  return null;
}
