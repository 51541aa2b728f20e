"use client";

import { useQuery } from "@tanstack/react-query";
import type { DeletionTimeline } from "@/server/redo/deletion-timeline";
import { getJson } from "../api";
import { ErrorState, formatDate, inputClass, Loading } from "../ui";
import { RestoreTimeline, type RestorePointsView } from "./timeline";
import type { ChosenAccount, PointChoice } from "./state";

function useRestorePoints(account: ChosenAccount | undefined) {
  return useQuery({
    queryKey: ["restore-points", account?.id],
    queryFn: () => getJson<RestorePointsView>(`/api/accounts/${account!.id}/restore-points`),
    enabled: Boolean(account),
  });
}

function useDeletions(account: ChosenAccount | undefined) {
  return useQuery({
    queryKey: ["deletions", account?.server, account?.id],
    queryFn: () => getJson<DeletionTimeline>(`/api/servers/${encodeURIComponent(account!.server)}/deletions?account=${account!.id}&limit=20`),
    enabled: Boolean(account),
  });
}

const KINDS: { kind: PointChoice["kind"]; label: string; help: string }[] = [
  { kind: "latest", label: "The latest change", help: "Everything up to now: the newest full backup, then every change recorded since." },
  { kind: "session", label: "A backup session", help: "Exactly as a full backup held it, or up to the end of an incremental." },
  { kind: "time", label: "A point in time", help: "As the mailbox was at this moment (UTC)." },
  { kind: "seq", label: "Just before an operation", help: "Stop right before a recorded change, such as a deletion." },
];

/** Step 2: the restore point, chosen on the account's timeline of backups and recorded changes. */
export function ChoosePoint({ accounts, point, onChange }: { accounts: ChosenAccount[]; point: PointChoice; onChange: (p: PointChoice) => void }) {
  const first = accounts[0];
  const points = useRestorePoints(first);
  const deletions = useDeletions(point.kind === "seq" ? first : undefined);
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
              Recoverable from {formatDate(points.data.window.earliest)} to {points.data.window.latestIsNow || !points.data.window.latest ? "now" : formatDate(points.data.window.latest)}.
            </span>
          )}
        </label>
      )}
      {point.kind === "seq" && (
        <div className="space-y-2 text-sm">
          <label className="flex flex-col gap-1">
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
          {point.note && <p className="text-slate-600">{point.note}</p>}
          {deletions.data && deletions.data.entries.length > 0 && (
            <div>
              <p className="mb-1 text-slate-600">Recent deletions of {first?.email}:</p>
              <ul className="divide-y divide-slate-100 rounded-md border border-slate-200">
                {deletions.data.entries.map((d) => (
                  <li key={d.seq} className="flex flex-wrap items-center gap-2 px-3 py-1.5">
                    <span className="text-xs text-slate-500">{formatDate(d.at)}</span>
                    <span className="font-mono text-xs">{d.op}</span>
                    <span className="min-w-0 flex-1 truncate">
                      {d.count} item(s){d.folder ? ` in ${d.folder}` : ""}: {d.items.map((i) => i.subject ?? i.name).filter(Boolean).slice(0, 2).join(", ")}
                    </span>
                    <button
                      className="text-xs font-medium text-sky-700 hover:underline"
                      onClick={() => onChange({ kind: "seq", seq: d.seq - 1, note: `Just before ${d.op} at ${formatDate(d.at)} (redo ${d.seq}).` })}
                    >
                      Just before this
                    </button>
                  </li>
                ))}
              </ul>
            </div>
          )}
        </div>
      )}
    </div>
  );
}
