/**
 * An account's restore points as a timeline, computed purely from the catalog's sessions and
 * the server's redo coverage (server/restore/restore-points.ts gathers them).
 *
 * A restore starts from a full snapshot of the account and replays redo after it: the redo held
 * by the sessions that follow it (every session, full or incremental, moves the redo since the
 * previous one), then the server's redo archive, then its current log, which reaches now. Laid
 * out by sequence number from the oldest snapshot on, these pieces either tile the sequence space
 * or leave holes: gaps, past which a restore from an earlier snapshot cannot go. So each snapshot
 * opens a recoverable interval that ends at the first gap after its session's redo (or now, or
 * the end of what is held when the current log cannot be read), and the window is their union.
 */
import type { PlanSession } from "./plan-restore.ts";
import type { RedoCoverage } from "../redo/redo-coverage.ts";

export interface TimelineSegment {
  /** full: a snapshot (a point); incremental: redo held by session `label`; archive, log: the server's; gap: nothing holds it. */
  kind: "full" | "incremental" | "archive" | "log" | "gap";
  from: string;
  to: string;
  fromSeq: number;
  toSeq: number;
  label?: string;
}

export interface RestoreTimeline {
  fulls: { label: string; snapshotAt: string; redoSeq: number; changeNumber: number; email: string }[];
  /** Incremental sessions after the oldest full: their redo runs through `throughSeq`, sealed at `startedAt`. */
  incrementals: { label: string; fromSeq: number; throughSeq: number; from: string; startedAt: string }[];
  archive: { fromSeq: number; toSeq: number; from: string | null; to: string | null; segments: number } | null;
  currentLog: { fromSeq: number; toSeq: number; from: string; to: string } | null;
  gaps: { fromSeq: number; toSeq: number; from: string; to: string }[];
  recoverable: { from: string; to: string; fromSeq: number; toSeq: number }[];
  window: { earliest: string | null; latest: string | null; earliestSeq: number | null; latestSeq: number | null; latestIsNow: boolean };
  segments: TimelineSegment[];
}

interface Piece {
  kind: "incremental" | "archive" | "log";
  fromSeq: number;
  toSeq: number;
  from: string | null;
  to: string | null;
  label?: string;
}

const iso = (d: Date) => d.toISOString();

export function buildRestoreTimeline(input: { accountId: string; sessions: PlanSession[]; coverage: RedoCoverage | null; now: Date; deletedAt: Date | null }): RestoreTimeline {
  const sessions = [...input.sessions].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  const holding = sessions.filter((s) => s.fulls.has(input.accountId));
  const fulls = holding.map((s) => {
    const f = s.fulls.get(input.accountId)!;
    return { label: s.label, snapshotAt: iso(f.snapshotAt), redoSeq: f.lastRedoSeq, changeNumber: f.changeNumber, email: f.email };
  });
  const oldest = holding[0];
  const startSeq = oldest ? oldest.redoThroughSeq + 1 : 1;

  // The redo pieces after the oldest snapshot, by sequence number.
  const pieces: Piece[] = [];
  const incrementals: RestoreTimeline["incrementals"] = [];
  sessions.forEach((s, i) => {
    if (!oldest || s.createdAt <= oldest.createdAt || s.redoFromSeq === null) return;
    const from = iso((sessions[i - 1] ?? s).startedAt);
    pieces.push({ kind: "incremental", fromSeq: s.redoFromSeq, toSeq: s.redoThroughSeq, from, to: iso(s.startedAt), label: s.label });
    if (s.type === "incremental") incrementals.push({ label: s.label, fromSeq: s.redoFromSeq, throughSeq: s.redoThroughSeq, from, startedAt: iso(s.startedAt) });
  });
  const backedUpThrough = Math.max(oldest?.redoThroughSeq ?? 0, ...pieces.map((p) => p.toSeq));

  let archive: RestoreTimeline["archive"] = null;
  let currentLog: RestoreTimeline["currentLog"] = null;
  let liveFrom: number | null = null;
  if (input.coverage) {
    const kept = input.coverage.archive.segments.filter((s) => s.lastSeq >= startSeq && s.lastSeq > backedUpThrough);
    // Contiguous segments make one band; a hole between two starts another (and shows as a gap).
    for (const s of kept) {
      const last = pieces.at(-1);
      if (last?.kind === "archive" && s.firstSeq === last.toSeq + 1) Object.assign(last, { toSeq: s.lastSeq, to: s.lastAt ?? last.to });
      else pieces.push({ kind: "archive", fromSeq: s.firstSeq, toSeq: s.lastSeq, from: s.firstAt, to: s.lastAt });
    }
    if (kept.length) {
      archive = { fromSeq: kept[0]!.firstSeq, toSeq: kept.at(-1)!.lastSeq, from: kept.find((s) => s.firstAt)?.firstAt ?? null, to: kept.findLast((s) => s.lastAt)?.lastAt ?? null, segments: kept.length };
    }
    // Everything after the archive is in the current log (or not written yet).
    const archivedThrough = Math.max(backedUpThrough, input.coverage.archive.lastArchivedSeq, ...kept.map((s) => s.lastSeq));
    liveFrom = archivedThrough + 1;
    const log = input.coverage.currentLog;
    if (log && log.lastSeq >= liveFrom) {
      currentLog = { fromSeq: liveFrom, toSeq: log.lastSeq, from: log.firstAt, to: log.lastAt };
      pieces.push({ kind: "log", fromSeq: liveFrom, toSeq: log.lastSeq, from: log.firstAt, to: iso(input.now) });
    }
  }
  pieces.sort((a, b) => a.fromSeq - b.fromSeq);
  // Times a piece lacks (a segment of voids only) are taken from its neighbours.
  pieces.forEach((p, i) => {
    p.from ??= pieces[i - 1]?.to ?? fulls[0]?.snapshotAt ?? iso(input.now);
    p.to ??= pieces[i + 1]?.from ?? p.from;
  });

  const gaps: RestoreTimeline["gaps"] = [];
  let next = startSeq;
  let before: Piece | undefined;
  for (const p of oldest ? pieces : []) {
    if (p.fromSeq > next) gaps.push({ fromSeq: next, toSeq: p.fromSeq - 1, from: before?.to ?? fulls[0]!.snapshotAt, to: p.from! });
    if (p.toSeq + 1 > next) {
      next = p.toSeq + 1;
      before = p;
    }
  }
  // With the live redo readable, whatever the pieces do not reach up to the archive horizon is lost too.
  if (liveFrom !== null && oldest && next < liveFrom) {
    gaps.push({ fromSeq: next, toSeq: liveFrom - 1, from: before?.to ?? fulls[0]!.snapshotAt, to: iso(input.now) });
    next = liveFrom;
  }
  const reachesNow = liveFrom !== null;
  const heldThrough = Math.max(next - 1, currentLog?.toSeq ?? 0);
  const endTime = (t: string) => (input.deletedAt && Date.parse(t) > input.deletedAt.getTime() ? iso(input.deletedAt) : t);

  const recoverable: RestoreTimeline["recoverable"] = [];
  holding.forEach((s, i) => {
    const full = fulls[i]!;
    const stop = gaps.find((g) => g.fromSeq > s.redoThroughSeq);
    const end = stop
      ? { to: stop.from, toSeq: stop.fromSeq - 1 }
      : reachesNow
        ? { to: iso(input.now), toSeq: heldThrough }
        : { to: before?.to ?? full.snapshotAt, toSeq: heldThrough };
    const interval = { from: full.snapshotAt, fromSeq: full.redoSeq, to: endTime(end.to), toSeq: Math.max(end.toSeq, full.redoSeq) };
    const last = recoverable.at(-1);
    if (last && interval.fromSeq <= last.toSeq + 1) {
      if (interval.toSeq > last.toSeq) Object.assign(last, { to: interval.to, toSeq: interval.toSeq });
    } else recoverable.push(interval);
  });
  const latestIsNow = reachesNow && !input.deletedAt && recoverable.length > 0 && !gaps.some((g) => g.fromSeq > holding.at(-1)!.redoThroughSeq);

  const segments: TimelineSegment[] = [
    ...fulls.map((f) => ({ kind: "full" as const, from: f.snapshotAt, to: f.snapshotAt, fromSeq: f.redoSeq, toSeq: f.redoSeq, label: f.label })),
    ...pieces.map((p) => ({ kind: p.kind, from: p.from!, to: p.to!, fromSeq: p.fromSeq, toSeq: p.toSeq, ...(p.label ? { label: p.label } : {}) })),
    ...gaps.map((g) => ({ kind: "gap" as const, ...g })),
  ].sort((a, b) => Date.parse(a.from) - Date.parse(b.from) || a.fromSeq - b.fromSeq);

  return {
    fulls,
    incrementals,
    archive,
    currentLog,
    gaps,
    recoverable,
    window: {
      earliest: recoverable[0]?.from ?? null,
      latest: recoverable.at(-1)?.to ?? null,
      earliestSeq: recoverable[0]?.fromSeq ?? null,
      latestSeq: recoverable.at(-1)?.toSeq ?? null,
      latestIsNow,
    },
    segments,
  };
}

const utcMinute = (t: string) => `${t.slice(0, 16).replace("T", " ")} UTC`;

/**
 * Why a restore point (a time, or the redo sequence a restore replays through) lies outside the
 * account's recoverable window, in the caller's terms, or null when it can be restored. An
 * account with no full backup is left to the planner, which may rebuild it from redo alone.
 */
export function whyNotRecoverable(timeline: Pick<RestoreTimeline, "fulls" | "recoverable" | "window">, point: { seq: number } | { time: string }): string | null {
  const oldest = timeline.fulls[0];
  if (!oldest) return null;
  const at = "time" in point ? Date.parse(point.time) : null;
  if (at !== null && Number.isNaN(at)) return null;
  const inside = (r: RestoreTimeline["recoverable"][number]) => ("seq" in point ? r.fromSeq <= point.seq && point.seq <= r.toSeq : Date.parse(r.from) <= at! && at! <= Date.parse(r.to));
  if (timeline.recoverable.some(inside)) return null;
  const beforeOldest = "seq" in point ? point.seq < oldest.redoSeq : at! < Date.parse(oldest.snapshotAt);
  if (beforeOldest) return `before the oldest backup of this account, ${utcMinute(oldest.snapshotAt)}`;
  const latest = timeline.window.latest;
  const afterLatest = "seq" in point ? point.seq > (timeline.window.latestSeq ?? Infinity) : latest !== null && at! > Date.parse(latest);
  if (afterLatest) return timeline.window.latestIsNow ? null : `after the last recoverable moment, ${utcMinute(latest!)}`;
  return "the redo that leads to this moment is missing (a gap in the backups), so it cannot be restored";
}
