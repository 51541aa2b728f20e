import { describe, expect, it } from "vitest";
import type { RedoCoverage } from "../redo/redo-coverage.ts";
import type { PlanSession } from "./plan-restore.ts";
import { buildRestoreTimeline, whyNotRecoverable } from "./restore-timeline.ts";

const A = "00000000-0000-4000-8000-00000000000a";
const t = (minute: number) => new Date(Date.UTC(2026, 0, 10, 12, minute));
const now = t(59);

function session(label: string, minute: number, redo: [number | null, number], full?: { redoSeq: number }): PlanSession {
  return {
    label,
    type: label.startsWith("full") ? "full" : "incremental",
    createdAt: t(minute),
    startedAt: t(minute),
    redoFromSeq: redo[0],
    redoThroughSeq: redo[1],
    fulls: new Map(full ? [[A, { email: "a@example.com", changeNumber: 5, lastRedoSeq: full.redoSeq, snapshotAt: new Date(t(minute).getTime() + 1000) }]] : []),
  };
}

const segment = (firstSeq: number, lastSeq: number, minute: number) => ({ name: `s${firstSeq}`, firstSeq, lastSeq, firstAt: t(minute).toISOString(), lastAt: t(minute + 1).toISOString() });

function coverage(segments: ReturnType<typeof segment>[], log: [number, number] | null): RedoCoverage {
  return {
    archive: { segments, lastArchivedSeq: segments.at(-1)?.lastSeq ?? 0 },
    currentLog: log && { firstSeq: log[0], lastSeq: log[1], firstAt: t(50).toISOString(), lastAt: t(51).toISOString() },
  };
}

describe("buildRestoreTimeline", () => {
  it("reaches now through the sessions, the archive and the current log when nothing is missing", () => {
    const sessions = [session("full-1", 1, [null, 10], { redoSeq: 8 }), session("incr-1", 10, [11, 20])];
    const result = buildRestoreTimeline({ accountId: A, sessions, coverage: coverage([segment(21, 30, 20), segment(31, 40, 30)], [41, 45]), now, deletedAt: null });
    expect(result.gaps).toEqual([]);
    expect(result.window).toMatchObject({ earliest: new Date(t(1).getTime() + 1000).toISOString(), latest: now.toISOString(), latestIsNow: true, earliestSeq: 8, latestSeq: 45 });
    expect(result.incrementals).toEqual([{ label: "incr-1", fromSeq: 11, throughSeq: 20, from: t(1).toISOString(), startedAt: t(10).toISOString() }]);
    expect(result.archive).toMatchObject({ fromSeq: 21, toSeq: 40, segments: 2 });
    expect(result.segments.map((s) => `${s.kind}:${s.fromSeq}-${s.toSeq}`)).toEqual(["incremental:11-20", "full:8-8", "archive:21-40", "log:41-45"]);
    // In time order: the incremental's redo starts when the session before it sealed, just before the snapshot.
  });

  it("stops an older snapshot's window at a gap, and opens a new one at a snapshot after it", () => {
    const sessions = [session("full-1", 1, [null, 10], { redoSeq: 8 }), session("incr-1", 10, [11, 20]), session("full-2", 40, [31, 40], { redoSeq: 42 })];
    const result = buildRestoreTimeline({ accountId: A, sessions, coverage: coverage([segment(41, 50, 41)], [51, 52]), now, deletedAt: null });
    expect(result.gaps).toEqual([{ fromSeq: 21, toSeq: 30, from: t(10).toISOString(), to: t(10).toISOString() }]);
    expect(result.recoverable.map((r) => [r.fromSeq, r.toSeq])).toEqual([
      [8, 20],
      [42, 52],
    ]);
    expect(result.window.latestIsNow).toBe(true);
    expect(result.segments.some((s) => s.kind === "gap" && s.fromSeq === 21)).toBe(true);
  });

  it("reports a lost archive tail as a gap and does not claim to reach now", () => {
    const sessions = [session("full-1", 1, [null, 10], { redoSeq: 8 })];
    const lost: RedoCoverage = { archive: { segments: [segment(11, 20, 5)], lastArchivedSeq: 30 }, currentLog: { firstSeq: 31, lastSeq: 33, firstAt: t(50).toISOString(), lastAt: t(51).toISOString() } };
    const result = buildRestoreTimeline({ accountId: A, sessions, coverage: lost, now, deletedAt: null });
    expect(result.gaps.map((g) => [g.fromSeq, g.toSeq])).toEqual([[21, 30]]);
    expect(result.window).toMatchObject({ latestIsNow: false, latestSeq: 20, latest: t(6).toISOString() });
  });

  it("without the live redo ends at the backed-up redo; a deleted account ends at its deletion", () => {
    const sessions = [session("full-1", 1, [null, 10], { redoSeq: 8 }), session("incr-1", 10, [11, 20])];
    const offline = buildRestoreTimeline({ accountId: A, sessions, coverage: null, now, deletedAt: null });
    expect(offline.window).toMatchObject({ latest: t(10).toISOString(), latestSeq: 20, latestIsNow: false });
    const deleted = buildRestoreTimeline({ accountId: A, sessions, coverage: coverage([], [21, 22]), now, deletedAt: t(30) });
    expect(deleted.window).toMatchObject({ latest: t(30).toISOString(), latestIsNow: false });
  });

  it("has no window and no gaps for an account no full backup holds", () => {
    const result = buildRestoreTimeline({ accountId: A, sessions: [session("full-1", 1, [null, 10])], coverage: coverage([segment(11, 20, 5)], null), now, deletedAt: null });
    expect(result.fulls).toEqual([]);
    expect(result.gaps).toEqual([]);
    expect(result.window).toEqual({ earliest: null, latest: null, earliestSeq: null, latestSeq: null, latestIsNow: false });
  });
});

describe("whyNotRecoverable", () => {
  const gapped = () => {
    const sessions = [session("full-1", 1, [null, 10], { redoSeq: 8 }), session("incr-1", 10, [11, 20]), session("full-2", 40, [31, 40], { redoSeq: 42 })];
    return buildRestoreTimeline({ accountId: A, sessions, coverage: coverage([segment(41, 50, 41)], [51, 52]), now, deletedAt: null });
  };

  it("accepts points inside the window, by sequence number and by time, up to now", () => {
    const timeline = gapped();
    expect(whyNotRecoverable(timeline, { seq: 15 })).toBeNull();
    expect(whyNotRecoverable(timeline, { seq: 52 })).toBeNull();
    expect(whyNotRecoverable(timeline, { time: t(5).toISOString() })).toBeNull();
    expect(whyNotRecoverable(timeline, { time: new Date(now.getTime() + 60_000).toISOString() })).toBeNull();
  });

  it("names the oldest backup for a point before it, and the gap for a point in one", () => {
    const timeline = gapped();
    expect(whyNotRecoverable(timeline, { seq: 5 })).toBe("before the oldest backup of this account, 2026-01-10 12:01 UTC");
    expect(whyNotRecoverable(timeline, { time: t(0).toISOString() })).toBe("before the oldest backup of this account, 2026-01-10 12:01 UTC");
    expect(whyNotRecoverable(timeline, { seq: 25 })).toMatch(/^the redo that leads to this moment is missing/);
    expect(whyNotRecoverable(timeline, { time: t(20).toISOString() })).toMatch(/^the redo that leads to this moment is missing/);
  });

  it("names the last recoverable moment when the window does not reach now, and leaves an account with no full to the planner", () => {
    const sessions = [session("full-1", 1, [null, 10], { redoSeq: 8 })];
    const ended = buildRestoreTimeline({ accountId: A, sessions, coverage: null, now, deletedAt: null });
    expect(whyNotRecoverable(ended, { time: t(30).toISOString() })).toMatch(/^after the last recoverable moment, 2026-01-10 12:01 UTC$/);
    const none = buildRestoreTimeline({ accountId: A, sessions: [], coverage: null, now, deletedAt: null });
    expect(whyNotRecoverable(none, { seq: 1 })).toBeNull();
  });
});
