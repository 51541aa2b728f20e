"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import type { ScheduleView } from "@/server/schedule/schedule-view";
import { getJson, sendJson } from "./api";
import { Badge, buttonClass, Card, EmptyState, ErrorState, ErrorText, formatDate, inputClass, Loading, PageHeader, When } from "./ui";
import { DataGrid, type GridColumn } from "./data-grid";
import { useIsAdmin, useMe } from "./use-me";

type Row = { type: string; age: string; to: string; scope: string; pattern: string; tz: string };

const TYPES = [
  { code: "f", label: "full" },
  { code: "i", label: "incremental" },
  { code: "a", label: "auto-grouped" },
  { code: "d", label: "delete (retention)" },
  { code: "c", label: "copy to a target" },
  { code: "v", label: "verify" },
  { code: "s", label: "summary mail" },
  { code: "r", label: "restore drill" },
];
const TONE = { f: "blue", i: "slate", a: "violet", d: "amber", c: "green", v: "green", s: "slate" } as const;

function useSchedules() {
  return useQuery({
    queryKey: ["schedules"],
    queryFn: () => getJson<{ servers: ScheduleView[] }>("/api/schedules").then((r) => r.servers),
    // Next runs move on; so does the redo archive's next check.
    refetchInterval: 60_000,
  });
}

/** A change to one server's schedule; the answer is the new schedule, put straight in the cache. */
function useChange(server: string, onDone?: () => void) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ method, path, body }: { method: "PUT" | "POST" | "DELETE"; path: string; body?: unknown }) =>
      sendJson<ScheduleView>(method, `/api/schedules/${encodeURIComponent(server)}${path}`, body),
    onSuccess: (view) => {
      client.setQueryData<ScheduleView[]>(["schedules"], (old) => old?.map((s) => (s.server === view.server ? view : s)));
      onDone?.();
    },
  });
}

function Editor({ view, onClose }: { view: ScheduleView; onClose: () => void }) {
  const [rows, setRows] = useState<Row[]>(view.entries.map((e) => ({ type: e.code, age: e.age ?? "", to: e.to ?? "", scope: e.scope ?? "", pattern: e.pattern, tz: e.tz })));
  const save = useChange(view.server, onClose);
  const set = (i: number, patch: Partial<Row>) => setRows((rs) => rs.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const zone = rows.at(-1)?.tz ?? "UTC";
  // The API's message quotes the pattern it refused: mark that row.
  const refused = save.error?.message.match(/^invalid cron pattern "(.*)" for /)?.[1];
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate({ method: "PUT", path: "", body: { entries: rows.map((r) => ({ type: r.type, pattern: r.pattern, tz: r.tz || undefined, ...(r.type === "d" ? { age: r.age } : {}), ...(r.type === "c" ? { to: r.to } : {}), ...(r.type === "v" ? { scope: r.scope || "all" } : {}), ...(r.type === "r" ? { scope: r.scope || "3" } : {}) })) } });
  };
  return (
    <form onSubmit={submit} aria-label={`Edit the schedule of ${view.server}`} className="space-y-3">
      {rows.length === 0 && <p className="text-sm text-slate-500">No entries: saving leaves {view.server} with no scheduled backups.</p>}
      {rows.map((row, i) => (
        <fieldset key={i} className="flex flex-wrap items-center gap-2">
          <legend className="sr-only">Entry {i + 1}</legend>
          <select aria-label={`Entry ${i + 1} type`} value={row.type} onChange={(e) => set(i, { type: e.target.value })} className={inputClass}>
            {TYPES.map((t) => (
              <option key={t.code} value={t.code}>
                {t.code} · {t.label}
              </option>
            ))}
          </select>
          {row.type === "d" && (
            <input aria-label={`Entry ${i + 1} age`} placeholder="1m" value={row.age} onChange={(e) => set(i, { age: e.target.value })} className={`${inputClass} w-20`} />
          )}
          {row.type === "v" && (
            <input aria-label={`Entry ${i + 1} sessions to verify`} placeholder="all or 3" value={row.scope} onChange={(e) => set(i, { scope: e.target.value })} className={`${inputClass} w-24`} />
          )}
          {row.type === "c" && (
            <input aria-label={`Entry ${i + 1} copy target`} placeholder="offsite" value={row.to} onChange={(e) => set(i, { to: e.target.value })} className={`${inputClass} w-28`} />
          )}
          <input
            aria-label={`Entry ${i + 1} cron pattern`}
            aria-invalid={refused !== undefined && refused === row.pattern}
            placeholder="0 1 * * 6"
            value={row.pattern}
            onChange={(e) => set(i, { pattern: e.target.value })}
            className={`${inputClass} w-40 font-mono aria-[invalid=true]:border-red-500`}
          />
          <input aria-label={`Entry ${i + 1} time zone`} placeholder="UTC" value={row.tz} onChange={(e) => set(i, { tz: e.target.value })} className={`${inputClass} w-44`} />
          <button type="button" aria-label={`Remove entry ${i + 1}`} onClick={() => setRows((rs) => rs.filter((_, j) => j !== i))} className={buttonClass("danger")}>
            Remove
          </button>
        </fieldset>
      ))}
      <div className="flex flex-wrap items-center gap-2">
        <button type="button" onClick={() => setRows((rs) => [...rs, { type: "f", age: "", to: "", scope: "", pattern: "", tz: zone }])} className={buttonClass()}>
          Add entry
        </button>
        <button type="submit" disabled={save.isPending} className={buttonClass("primary")}>
          {save.isPending ? "Saving…" : "Save schedule"}
        </button>
        <button type="button" onClick={onClose} className={buttonClass()}>
          Cancel
        </button>
      </div>
      <ErrorText error={save.error} />
      <p className="text-xs text-slate-500">
        Patterns are crontab&apos;s five fields: minute hour day-of-month month day-of-week (0 or 7 is Sunday). Ages: 7d, 4w, 1m, 1y. A copy entry names one of the server&apos;s copy targets; a verify entry checks all sessions or the newest N.
      </p>
    </form>
  );
}

/** Apply Zimbra's defaults or clear: both replace what is there, so each asks once more. */
function Actions({ view, onEdit }: { view: ScheduleView; onEdit: () => void }) {
  const [confirm, setConfirm] = useState<"defaults" | "clear" | null>(null);
  const [tz, setTz] = useState(view.entries[0]?.tz ?? "UTC");
  const change = useChange(view.server, () => setConfirm(null));
  if (confirm) {
    const defaults = confirm === "defaults";
    return (
      <div className="flex flex-wrap items-center justify-end gap-2">
        <span className="text-sm text-slate-600">{defaults ? "Replace with Zimbra's defaults, in" : `Remove every entry of ${view.server}?`}</span>
        {defaults && <input aria-label="Time zone for the defaults" value={tz} onChange={(e) => setTz(e.target.value)} className={`${inputClass} w-40`} />}
        <button
          autoFocus
          disabled={change.isPending}
          onClick={() => change.mutate(defaults ? { method: "POST", path: "/defaults", body: { tz } } : { method: "DELETE", path: "" })}
          className={buttonClass(defaults ? "primary" : "danger")}
        >
          {defaults ? "Apply defaults" : "Clear schedule"}
        </button>
        <button onClick={() => setConfirm(null)} className={buttonClass()}>
          Cancel
        </button>
        <div className="basis-full text-right">
          <ErrorText error={change.error} />
        </div>
      </div>
    );
  }
  return (
    <div className="flex flex-wrap justify-end gap-2">
      <button onClick={onEdit} className={buttonClass()}>
        Edit
      </button>
      <button onClick={() => setConfirm("defaults")} className={buttonClass()}>
        Apply Zimbra&apos;s defaults
      </button>
      <button onClick={() => setConfirm("clear")} disabled={view.entries.length === 0} className={buttonClass("danger")}>
        Clear
      </button>
    </div>
  );
}

type Entry = ScheduleView["entries"][number];

const ENTRY_COLUMNS: GridColumn<Entry>[] = [
  {
    id: "entry",
    header: "Entry",
    size: 210,
    sort: (e) => e.code,
    className: "whitespace-nowrap",
    cell: (e) => (
      <>
        <Badge tone={TONE[e.code as keyof typeof TONE] ?? "slate"}>{e.age ? `${e.code} ${e.age}` : e.to ? `${e.code} ${e.to}` : e.scope ? `${e.code} ${e.scope}` : e.code}</Badge> <code className="font-mono text-xs">{e.pattern}</code>
      </>
    ),
  },
  { id: "what", header: "What", size: 240, sort: (e) => e.action, wrap: true, className: "text-slate-600", cell: (e) => e.action },
  { id: "when", header: "When", size: 220, wrap: true, cell: (e) => e.when },
  {
    id: "next",
    header: "Next runs",
    size: 200,
    sort: (e) => e.nextRuns[0]?.at,
    wrap: true,
    className: "whitespace-nowrap",
    cell: (e) => (
      <ul aria-label={`Next runs of entry ${e.n}`}>
        {e.nextRuns.map((r) => (
          <li key={r.at}>
            <time dateTime={r.at} title={`${r.at} (UTC)`}>
              {r.local} <span className="text-xs text-slate-400">{e.tz}</span>
            </time>
            {e.tz !== "UTC" && (
              <span className="block text-xs text-slate-400">
                <When iso={r.at} />
              </span>
            )}
          </li>
        ))}
      </ul>
    ),
  },
  {
    id: "queue",
    header: "Queue",
    size: 150,
    wrap: true,
    cell: (e) => (e.onQueue === null ? <Badge>unknown</Badge> : e.onQueue ? <Badge tone="green">scheduled</Badge> : <Badge tone="red">not on the queue</Badge>),
  },
];

function Entries({ view }: { view: ScheduleView }) {
  if (view.entries.length === 0) {
    return <p className="text-sm text-slate-500">No scheduled backups: {view.server} is backed up only when someone starts a backup.</p>;
  }
  return (
    <DataGrid label={`Schedule of ${view.server}`} columns={ENTRY_COLUMNS} rows={view.entries} rowKey={(e) => e.n} rowClassName={() => "align-top"} />
  );
}

function ServerSchedule({ view, isAdmin }: { view: ScheduleView; isAdmin: boolean }) {
  const [editing, setEditing] = useState(false);
  const archive = view.redoArchive;
  const warnings = view.queue.error ? [...view.warnings, view.queue.error] : view.warnings;
  const title = (
    <span className="flex items-center gap-2">
      {view.server} <Badge tone={view.backupMode === "auto_grouped" ? "violet" : "blue"}>{view.backupMode === "auto_grouped" ? "auto-grouped" : "standard"}</Badge>
    </span>
  );
  return (
    <Card title={title} actions={isAdmin && !editing ? <Actions view={view} onEdit={() => setEditing(true)} /> : undefined}>
      <div className="space-y-3">
        {editing ? <Editor view={view} onClose={() => setEditing(false)} /> : <Entries view={view} />}
        {warnings.length > 0 && (
          <ul aria-label={`Warnings for ${view.server}`} className="space-y-1 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900">
            {warnings.map((w) => (
              <li key={w}>{w}</li>
            ))}
          </ul>
        )}
        <p className="text-sm text-slate-600">
          <span className="font-medium text-slate-700">Redo archive</span> (set by the server&apos;s redo settings, not here): {archive.description}
          {archive.onQueue === false ? "; no worker has put it on the queue yet" : archive.nextAt ? `; next check ${formatDate(archive.nextAt)}` : ""}.
        </p>
        {view.updatedAt && (
          <p className="text-xs text-slate-400">
            Schedule set <When iso={view.updatedAt} /> by {view.updatedBy}
          </p>
        )}
      </div>
    </Card>
  );
}

export function Schedules() {
  const schedules = useSchedules();
  const isAdmin = useIsAdmin();
  const signedIn = useMe().isSuccess;
  const subtitle = "Full, incremental, auto-grouped and delete entries per server, as zmschedulebackup sets them. A server has no scheduled backups until one is set.";
  return (
    <>
      <PageHeader title="Backup schedules" subtitle={subtitle} />
      {schedules.isPending ? (
        <Loading rows={6} />
      ) : schedules.isError ? (
        <ErrorState error={schedules.error} retry={() => schedules.refetch()} />
      ) : schedules.data.length === 0 ? (
        <EmptyState title="No servers yet">Add a mailbox server to the directory to schedule its backups.</EmptyState>
      ) : (
        <div className="space-y-4">
          {signedIn && !isAdmin && <p className="text-sm text-slate-500">Only admins can change schedules.</p>}
          {schedules.data.map((view) => (
            <ServerSchedule key={view.server} view={view} isAdmin={isAdmin} />
          ))}
        </div>
      )}
    </>
  );
}
