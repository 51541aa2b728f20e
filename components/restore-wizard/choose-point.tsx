"use client";

import { useQuery } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import type { DeletionTimeline } from "@/server/redo/deletion-timeline";
import { getJson } from "../api";
import { useDebounced } from "../use-debounced";
import { ErrorState, formatDate, inputClass, Loading, When } from "../ui";
import { RestoreTimeline, type RestorePointsView } from "./timeline";
import type { ChosenAccount, PointChoice } from "./state";

function useRestorePoints(account: ChosenAccount | undefined) {
  return useQuery({
    queryKey: ["restore-points", account?.id],
    queryFn: () => getJson<RestorePointsView>(`/api/accounts/${account!.id}/restore-points`),
    enabled: Boolean(account),
  });
}

function useDeletions(account: ChosenAccount | undefined, q: string) {
  return useQuery({
    queryKey: ["deletions", account?.server, account?.id, q],
    queryFn: () =>
      getJson<DeletionTimeline>(`/api/servers/${encodeURIComponent(account!.server)}/deletions?${new URLSearchParams({ account: account!.id, limit: "20", ...(q ? { q } : {}) })}`),
    enabled: Boolean(account),
  });
}

/** Why a time typed by hand cannot be restored, as the server judges it against the account's window, or null. */
function useTimeCheck(account: ChosenAccount | undefined, time: string | null): string | null {
  const at = useDebounced(time ? `${time}Z` : "", 300);
  const check = useQuery({
    queryKey: ["restore-points", account?.id, at],
    queryFn: () => getJson<RestorePointsView>(`/api/accounts/${account!.id}/restore-points?${new URLSearchParams({ at })}`),
    enabled: Boolean(account && at && !Number.isNaN(Date.parse(at))),
  });
  return time ? (check.data?.pointCheck?.reason ?? null) : null;
}

const KINDS: { kind: PointChoice["kind"]; label: string; help: string }[] = [
  { kind: "seq", label: "Just before a deletion", help: "Find what the user lost, by folder name or subject, and stop right before it went." },
  { kind: "latest", label: "The latest change", help: "Everything up to now: the newest full backup, then every change recorded since." },
  { kind: "session", label: "A backup session", help: "Exactly as a full backup held it, or up to the end of an incremental." },
  { kind: "time", label: "A point in time", help: "As the mailbox was at this moment (UTC)." },
];

/** The account's deletions, searchable, each either a point to choose or the reason it cannot be one. */
function Deletions({ account, point, onChange }: { account: ChosenAccount | undefined; point: PointChoice; onChange: (p: PointChoice) => void }) {
  const [search, setSearch] = useState("");
  const q = useDebounced(search.trim(), 250);
  const deletions = useDeletions(account, q);
  const chosen = point.kind === "seq" ? point.seq : null;
  return (
    <div className="space-y-2">
      <input
        type="search"
        aria-label="Search deletions"
        placeholder="What did they lose? A folder name or a subject, e.g. Projects"
        value={search}
        onChange={(e) => setSearch(e.target.value)}
        className={`${inputClass} w-full max-w-md`}
      />
      {deletions.isPending ? (
        <Loading rows={2} />
      ) : deletions.isError ? (
        <ErrorState error={deletions.error} retry={() => deletions.refetch()} />
      ) : deletions.data.entries.length === 0 ? (
        <p className="text-slate-500">{q ? `No deletion of ${account?.email} matches "${q}".` : `No deletions of ${account?.email} are recorded.`}</p>
      ) : (
        <ul aria-label="Deletions" className="divide-y divide-slate-100 rounded-md border border-slate-200">
          {deletions.data.entries.map((d) => {
            const isChosen = chosen === d.restoreBefore.restoreToRedoSeq;
            return (
              <li key={d.seq} aria-current={isChosen ? "true" : undefined} className={`flex flex-wrap items-center gap-2 px-3 py-2 ${isChosen ? "bg-sky-50 ring-1 ring-sky-300" : ""}`}>
                <span className="text-xs whitespace-nowrap text-slate-500"><When iso={d.at} /></span>
                <span className="min-w-0 flex-1">{d.what}</span>
                {!d.restorable.ok ? (
                  <span className="text-xs text-amber-800">Cannot be restored: {d.restorable.reason}</span>
                ) : isChosen ? (
                  <span className="text-xs font-medium text-sky-800">Chosen</span>
                ) : (
                  <button
                    className="text-xs font-medium text-sky-700 hover:underline"
                    onClick={() => onChange({ kind: "seq", seq: d.restoreBefore.restoreToRedoSeq, note: d.justBefore, at: d.restoreBefore.restoreToTime })}
                  >
                    Just before this
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}

/**
 * The recoverable moment nearest to a time outside the window: the earliest (rounded up to the
 * whole second a picker shows) when it is before, the latest when after. Null inside a gap.
 */
function nearestInWindow(time: string, window: RestorePointsView["window"] | undefined): string | null {
  const at = Date.parse(time);
  if (!window?.earliest || Number.isNaN(at)) return null;
  const earliest = Date.parse(window.earliest);
  if (at < earliest) return new Date(Math.ceil(earliest / 1000) * 1000).toISOString();
  if (!window.latestIsNow && window.latest && at > Date.parse(window.latest)) return new Date(Math.floor(Date.parse(window.latest) / 1000) * 1000).toISOString();
  return null;
}

/** Step 2: the restore point, chosen on the account's timeline of backups and recorded changes. */
export function ChoosePoint({
  accounts,
  point,
  onChange,
  next,
}: {
  accounts: ChosenAccount[];
  point: PointChoice;
  onChange: (p: PointChoice) => void;
  /** What to do once the point is chosen (the plan button), shown right beside it. */
  next?: ReactNode;
}) {
  const first = accounts[0];
  const points = useRestorePoints(first);
  const outside = useTimeCheck(first, point.kind === "time" ? point.time : null);
  const nearest = outside && point.kind === "time" ? nearestInWindow(`${point.time}Z`, points.data?.window) : null;
  const choose = (kind: PointChoice["kind"]) => {
    if (kind === point.kind) return;
    if (kind === "latest") onChange({ kind: "latest" });
    if (kind === "time") onChange({ kind: "time", time: new Date().toISOString().slice(0, 16) });
    if (kind === "session") {
      const last = points.data?.fulls.at(-1);
      onChange(last ? { kind: "session", label: last.label, type: "full" } : { kind: "session", label: "", type: "full" });
    }
    if (kind === "seq") onChange({ kind: "seq", seq: 0 });
  };
  return (
    <div className="space-y-4">
      {accounts.length > 1 && <p className="text-sm text-slate-500">The timeline shows {first?.email}; the point applies to every chosen account.</p>}
      {points.isPending ? (
        <Loading rows={2} />
      ) : points.isError ? (
        <ErrorState error={points.error} retry={() => points.refetch()} />
      ) : (
        <RestoreTimeline points={points.data} point={point} onChoose={onChange} />
      )}
      <fieldset className="grid gap-2 sm:grid-cols-2">
        <legend className="sr-only">Restore to</legend>
        {KINDS.map((k) => (
          <label key={k.kind} className={`flex cursor-pointer gap-2 rounded-md border p-3 text-sm ${point.kind === k.kind ? "border-sky-400 bg-sky-50" : "border-slate-200 bg-white"}`}>
            <input type="radio" name="point" checked={point.kind === k.kind} onChange={() => choose(k.kind)} className="mt-0.5" />
            <span>
              <span className="font-medium">{k.label}</span>
              <span className="block text-xs text-slate-500">{k.help}</span>
            </span>
          </label>
        ))}
      </fieldset>
      {point.kind === "session" && (
        <label className="flex flex-col gap-1 text-sm">
          Session
          <select
            aria-label="Backup session"
            value={`${point.type}:${point.label}`}
            onChange={(e) => {
              const [type, label] = e.target.value.split(":") as ["full" | "incremental", string];
              onChange({ kind: "session", type, label });
            }}
            className={inputClass}
          >
            {!point.label && <option value="full:">choose a session</option>}
            {points.data?.fulls.map((f) => (
              <option key={f.label} value={`full:${f.label}`}>
                {f.label} — full backup, snapshot {formatDate(f.snapshotAt)}
              </option>
            ))}
            {points.data?.incrementals.map((s) => (
              <option key={s.label} value={`incremental:${s.label}`}>
                {s.label} — incremental, changes through redo {s.throughSeq}
              </option>
            ))}
          </select>
        </label>
      )}
      {point.kind === "time" && (
        <label className="flex flex-col gap-1 text-sm">
          Time (UTC)
          <input
            type="datetime-local"
            step={1}
            aria-label="Restore to time (UTC)"
            value={point.time}
            onChange={(e) => onChange({ kind: "time", time: e.target.value })}
            className={`${inputClass} max-w-xs`}
          />
          {points.data?.window && (
            <span className="text-xs text-slate-500">
              Recoverable from <When iso={points.data.window.earliest} /> to {points.data.window.latestIsNow || !points.data.window.latest ? "now" : formatDate(points.data.window.latest)}.
            </span>
          )}
          {outside && (
            <span role="alert" className="flex flex-wrap items-center gap-2 text-xs text-amber-800">
              Cannot be restored: {outside}
              {nearest && (
                <button type="button" className="font-medium text-sky-700 underline" onClick={() => onChange({ kind: "time", time: nearest.slice(0, 19) })}>
                  Use {formatDate(nearest)} instead
                </button>
              )}
            </span>
          )}
        </label>
      )}
      {point.kind === "seq" && (
        <div className="space-y-2 text-sm">
          {point.note && (
            <div className="flex flex-wrap items-center gap-3 rounded-md bg-sky-50 px-3 py-2">
              <p className="min-w-0 flex-1 text-sky-900" aria-label="Chosen point">
                Restore to {point.note}.
              </p>
              {next}
            </div>
          )}
          <Deletions account={first} point={point} onChange={onChange} />
          <details className="text-xs text-slate-500">
            <summary className="cursor-pointer">By redo sequence number</summary>
            <label className="mt-1 flex flex-col gap-1">
              Replay through redo sequence number
              <input
                type="number"
                min={1}
                aria-label="Restore through redo sequence"
                value={point.seq || ""}
                onChange={(e) => onChange({ kind: "seq", seq: Number(e.target.value) })}
                className={`${inputClass} max-w-xs`}
              />
            </label>
          </details>
        </div>
      )}
    </div>
  );
}
