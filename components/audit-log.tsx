"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { getJson } from "./api";
import { DataGrid, type GridColumn } from "./data-grid";
import { Badge, buttonClass, EmptyState, ErrorState, inputClass, Loading, PageHeader, TextLink, type Tone, When } from "./ui";

interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  role: string;
  action: string;
  target: string;
  params: Record<string, unknown>;
  /** pending: recorded before the change and never finished (the process stopped meanwhile). */
  outcome: "ok" | "refused" | "failed" | "pending";
  status: number;
  message: string;
  /** The client's address for a console request; "" for the CLI. */
  address: string;
}

/** An in-place restore (or undo) that went through: its run's label, whose page offers the undo. */
function undoableRun(e: AuditEntry): string | null {
  if (e.outcome !== "ok" || !["restore.start", "restore.undo"].includes(e.action) || e.params?.copy === true || e.params?.ca === true) return null;
  return /^(restore-[\d.]+)[: ]/.exec(e.message ?? "")?.[1] ?? null;
}

const OUTCOME_TONE: Record<string, Tone> = { ok: "green", refused: "amber", failed: "red" };
const FILTERS = ["actor", "action", "outcome", "from", "to"] as const;

const AUDIT_COLUMNS: GridColumn<AuditEntry>[] = [
  { id: "when", header: "When", size: 172, sort: (e) => e.at, className: "text-xs whitespace-nowrap text-slate-500", cell: (e) => <When iso={e.at} /> },
  {
    id: "who",
    header: "Who",
    size: 210,
    sort: (e) => e.actor,
    wrap: true,
    className: "break-all",
    cell: (e) => (
      <>
        <span className="font-medium">{e.actor}</span>
        {e.role && <span className="ml-1 text-xs text-slate-500">({e.role})</span>}
        {e.address && <p className="text-xs text-slate-500">from {e.address}</p>}
      </>
    ),
  },
  { id: "action", header: "Action", size: 150, sort: (e) => e.action, className: "font-mono text-xs", cell: (e) => <span title={e.action}>{e.action}</span> },
  { id: "target", header: "Target", size: 190, sort: (e) => e.target, cell: (e) => <span title={e.target}>{e.target || "—"}</span> },
  {
    id: "outcome",
    header: "Outcome",
    size: 220,
    sort: (e) => e.outcome,
    wrap: true,
    cell: (e) => (
      <>
        <Badge tone={OUTCOME_TONE[e.outcome] ?? "slate"} title={`status ${e.status}`}>
          {e.outcome}
        </Badge>
        {e.message && <p className="mt-1 text-xs break-words text-slate-600">{e.message}</p>}
        {undoableRun(e) && (
          <p className="mt-1 text-xs">
            <TextLink href={`/restores/${encodeURIComponent(undoableRun(e)!)}`}>Undo this restore…</TextLink>
          </p>
        )}
      </>
    ),
  },
  {
    id: "parameters",
    header: "Parameters",
    size: 160,
    wrap: true,
    cell: (e) =>
      Object.keys(e.params ?? {}).length ? (
        <details>
          <summary className="cursor-pointer text-xs whitespace-nowrap text-sky-700" title={Object.keys(e.params).join(", ")}>
            {Object.keys(e.params).length} {Object.keys(e.params).length === 1 ? "field" : "fields"}
          </summary>
          <pre className="mt-1 rounded bg-slate-50 p-2 text-xs break-all whitespace-pre-wrap">{JSON.stringify(e.params, null, 2)}</pre>
        </details>
      ) : (
        <span className="text-slate-400">—</span>
      ),
  },
];

export function AuditLog() {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const page = Number(params.get("page") ?? 1) || 1;
  const query = new URLSearchParams();
  for (const key of FILTERS) if (params.get(key)) query.set(key, params.get(key)!);
  query.set("page", String(page));
  const audit = useQuery({
    queryKey: ["audit", query.toString()],
    queryFn: () => getJson<{ entries: AuditEntry[]; total: number; totalExact: boolean; pageSize: number }>(`/api/audit?${query}`),
    placeholderData: keepPreviousData,
    refetchInterval: 10_000,
  });
  const setParam = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    if (key !== "page") next.delete("page");
    router.replace(`${pathname}?${next}`);
  };
  const pageSize = audit.data?.pageSize ?? 50;
  const total = audit.data?.total ?? 0;
  // Past 1,000 matches the count stops: "of 1,000+", and Next stays open while there is more.
  const more = audit.data ? !audit.data.totalExact : false;
  return (
    <>
      <PageHeader title="Audit log" subtitle="Every change made through the console or the CLI: who, when, with which parameters, and what came of it. Refused attempts too." />
      <form className="mb-4 flex flex-wrap items-end gap-3" aria-label="Filter the audit log" onSubmit={(e) => e.preventDefault()}>
        <label className="flex flex-col gap-1 text-sm">
          Who
          <input type="search" defaultValue={params.get("actor") ?? ""} onChange={(e) => setParam("actor", e.target.value.trim())} placeholder="email or cli:user" className={inputClass} />
        </label>
        <label className="flex flex-col gap-1 text-sm">
          Action
          <select value={params.get("action") ?? ""} onChange={(e) => setParam("action", e.target.value)} className={inputClass}>
            <option value="">any</option>
            {["auth.", "backup.", "restore.", "copyback", "schedules.", "user.", "redo.", "server."].map((a) => (
              <option key={a} value={a}>
                {a.replace(/\.$/, "")}
              </option>
            ))}
          </select>
        </label>
        <label className="flex flex-col gap-1 text-sm">
          Outcome
          <select value={params.get("outcome") ?? ""} onChange={(e) => setParam("outcome", e.target.value)} className={inputClass}>
            <option value="">any</option>
            <option value="ok">ok</option>
            <option value="refused">refused</option>
            <option value="failed">failed</option>
            <option value="pending">pending</option>
          </select>
        </label>
        <label className="flex flex-col gap-1 text-sm">
          From (UTC)
          <input type="datetime-local" value={params.get("from") ?? ""} onChange={(e) => setParam("from", e.target.value)} className={inputClass} />
        </label>
        <label className="flex flex-col gap-1 text-sm">
          To (UTC)
          <input type="datetime-local" value={params.get("to") ?? ""} onChange={(e) => setParam("to", e.target.value)} className={inputClass} />
        </label>
      </form>
      {audit.isPending ? (
        <Loading rows={6} />
      ) : audit.isError ? (
        <ErrorState error={audit.error} retry={() => audit.refetch()} />
      ) : audit.data.entries.length === 0 ? (
        <EmptyState title="No entries match">Changes appear here as soon as someone makes one.</EmptyState>
      ) : (
        <div aria-busy={audit.isPlaceholderData} className={audit.isPlaceholderData ? "opacity-60 transition-opacity" : undefined}>
          {audit.isPlaceholderData && <p className="mb-2 text-sm text-slate-600">Updating to the new filter…</p>}
          <DataGrid label="Audit entries" columns={AUDIT_COLUMNS} rows={audit.data.entries} rowKey={(e) => e.id} rowClassName={() => "align-top"} />
          <div className="mt-3 flex items-center justify-between text-sm text-slate-600">
            <span>
              {(page - 1) * pageSize + 1}–{Math.min(page * pageSize, total)} of {total.toLocaleString("en")}
              {more && "+"}
            </span>
            <span className="flex gap-2">
              <button className={buttonClass()} disabled={page <= 1} onClick={() => setParam("page", String(page - 1))}>
                Previous
              </button>
              <button className={buttonClass()} disabled={page * pageSize >= total && !more} onClick={() => setParam("page", String(page + 1))}>
                Next
              </button>
            </span>
          </div>
        </div>
      )}
    </>
  );
}
