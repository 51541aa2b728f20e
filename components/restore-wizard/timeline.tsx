"use client";

import { formatDate, When } from "../ui";
import type { PointChoice } from "./state";

/** What GET /api/accounts/:id/restore-points answers, as far as the timeline needs it. */
export interface RestorePointsView {
  /** The account the points are of (GET /api/accounts/:id/restore-points answers it). */
  account?: { deletedAt: string | null };
  window: { earliest: string | null; latest: string | null; latestIsNow?: boolean };
  fulls: { label: string; snapshotAt: string }[];
  /** Asked with `?at=`: why that moment cannot be restored, or null. */
  pointCheck?: { at: string; reason: string | null };
  incrementals: { label: string; throughSeq: number; startedAt: string }[];
  segments: { kind: "full" | "incremental" | "archive" | "log" | "gap"; from: string; to: string; fromSeq?: number | null; toSeq?: number | null; label?: string | null }[];
}

const COLOR: Record<string, string> = {
  full: "bg-sky-500",
  incremental: "bg-indigo-400",
  archive: "bg-emerald-400",
  log: "bg-emerald-300",
  gap: "bg-red-500",
};

const LEGEND: [string, string][] = [
  ["full", "full backup"],
  ["incremental", "redo in incremental backups"],
  ["archive", "redo archive"],
  ["log", "current redo log"],
  ["gap", "gap: not recoverable"],
];

/**
 * The account's restore points on one line, oldest left: full snapshots as markers, the redo
 * that can be replayed after them as bands, gaps in red. Markers are buttons that choose that
 * session; the chosen time shows as a line.
 */
export function RestoreTimeline({ points, point, onChoose }: { points: RestorePointsView; point: PointChoice; onChoose: (p: PointChoice) => void }) {
  if (points.fulls.length === 0) {
    return (
      <p role="alert" className="rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900">
        No full backup holds this account, so no point on a timeline comes from one. A restore can still rebuild it from redo alone while the redo holds
        its whole life, from its creation on: the plan says whether it does.{" "}
        {points.account?.deletedAt
          ? `It was deleted on ${points.account.deletedAt.slice(0, 10)}: no backup will take it from now on.`
          : "The next full backup of its server takes it."}
      </p>
    );
  }
  const times = [...points.segments.flatMap((s) => [Date.parse(s.from), Date.parse(s.to)]), ...points.fulls.map((f) => Date.parse(f.snapshotAt)), Date.now()];
  const start = Math.min(...times);
  const end = Math.max(...times);
  const span = Math.max(end - start, 1);
  const covered = points.segments.filter((s) => s.kind !== "gap").map((s) => s.to);
  const coveredUntil = covered.length ? covered.reduce((a, b) => (a > b ? a : b)) : points.fulls.at(-1)?.snapshotAt;
  const x = (iso: string) => `${(((Date.parse(iso) - start) / span) * 100).toFixed(2)}%`;
  const width = (from: string, to: string) => `${Math.max(((Date.parse(to) - Date.parse(from)) / span) * 100, 0.6).toFixed(2)}%`;
  const chosenTime =
    point.kind === "time"
      ? new Date(point.time.length === 16 ? `${point.time}:00Z` : `${point.time}Z`).toISOString()
      : point.kind === "session"
        ? points.fulls.find((f) => f.label === point.label)?.snapshotAt
        : point.kind === "seq"
          ? point.at
          : undefined;
  return (
    <figure aria-label="Restore points" className="rounded-md border border-slate-200 bg-white p-3">
      <div className="relative h-10">
        <div className="absolute inset-x-0 top-4 h-2 rounded bg-slate-100" />
        {points.segments
          .filter((s) => s.kind !== "full")
          .map((s, i) => (
            <div
              key={i}
              title={`${s.kind}${s.label ? ` ${s.label}` : ""}: ${formatDate(s.from)} – ${formatDate(s.to)}${s.fromSeq ? ` (redo ${s.fromSeq}–${s.toSeq})` : ""}`}
              className={`absolute top-4 h-2 ${COLOR[s.kind]} ${s.kind === "gap" ? "z-10" : ""}`}
              style={{ left: x(s.from), width: width(s.from, s.to) }}
            />
          ))}
        {coveredUntil && points.window.latestIsNow && Date.now() - Date.parse(coveredUntil) > span / 200 && (
          <div
            title={`no change recorded since ${formatDate(coveredUntil)}: restorable up to now`}
            className={`absolute top-4 h-2 ${COLOR.log} opacity-60`}
            style={{ left: x(coveredUntil), width: width(coveredUntil, new Date().toISOString()) }}
          />
        )}
        {points.fulls.map((f) => (
          <button
            key={f.label}
            onClick={() => onChoose({ kind: "session", label: f.label, type: "full" })}
            aria-label={`Full backup ${f.label}, snapshot ${formatDate(f.snapshotAt)}`}
            title={`Full backup ${f.label}\nsnapshot ${formatDate(f.snapshotAt)}`}
            className={`absolute top-1.5 z-20 h-7 w-2 -translate-x-1/2 rounded-sm ring-2 ring-white outline-none focus-visible:ring-sky-300 ${
              point.kind === "session" && point.label === f.label ? "bg-sky-800" : "bg-sky-500 hover:bg-sky-700"
            }`}
            style={{ left: x(f.snapshotAt) }}
          />
        ))}
        {chosenTime && !Number.isNaN(Date.parse(chosenTime)) && (
          <div role="img" aria-label={`Marker at ${formatDate(chosenTime)}`} title={`chosen: ${formatDate(chosenTime)}`} className="absolute top-0 z-30 h-10 w-0.5 bg-slate-900" style={{ left: x(chosenTime) }} />
        )}
      </div>
      <div className="mt-1 flex justify-between text-xs text-slate-500">
        <span><When iso={new Date(start).toISOString()} /></span>
        <span>now</span>
      </div>
      <figcaption className="mt-2 flex flex-wrap items-center gap-x-4 gap-y-1 text-xs text-slate-600">
        {LEGEND.map(([kind, text]) => (
          <span key={kind} className="inline-flex items-center gap-1">
            <span aria-hidden className={`inline-block h-2 w-3 rounded-sm ${COLOR[kind]}`} />
            {text}
          </span>
        ))}
        <span className="ml-auto font-medium text-slate-700">
          Recoverable: <When iso={points.window.earliest} /> → {points.window.latestIsNow || !points.window.latest ? "now" : formatDate(points.window.latest)}
        </span>
      </figcaption>
    </figure>
  );
}
