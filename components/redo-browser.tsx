"use client";

import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useState } from "react";
import type { RedoPage } from "@/server/redo/query-redo";
import type { DeletionTimeline } from "@/server/redo/deletion-timeline";
import { getJson } from "./api";
import { restoreBeforeHref } from "./deletion-links";
import { useServers } from "./queries";
import { Badge, buttonClass, EmptyState, ErrorState, inputClass, Loading, PageHeader, When } from "./ui";
import { DataGrid, type GridColumn } from "./data-grid";

const DELETING = new Set(["DeleteItems", "MoveItems", "EmptyFolder", "PurgeOldMessages", "DeleteMailbox"]);

function Deletions({ server, query }: { server: string; query: URLSearchParams }) {
  const pages = useInfiniteQuery({
    queryKey: ["deletions", server, query.toString()],
    initialPageParam: 0,
    queryFn: ({ pageParam }) =>
      getJson<DeletionTimeline>(`/api/servers/${encodeURIComponent(server)}/deletions?${query}&limit=25${pageParam ? `&beforeSeq=${pageParam}` : ""}`),
    getNextPageParam: (last) => last.nextBeforeSeq ?? undefined,
  });
  if (pages.isPending) return <Loading rows={6} />;
  if (pages.isError) return <ErrorState error={pages.error} retry={() => pages.refetch()} />;
  const entries = pages.data.pages.flatMap((p) => p.entries);
  const warnings = [...new Set(pages.data.pages.flatMap((p) => p.warnings))];
  return (
    <>
      {warnings.map((w) => (
        <p key={w} role="alert" className="mb-3 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900">
          {w}
        </p>
      ))}
      {entries.length === 0 ? (
        <EmptyState title="Nothing was deleted or moved to Trash in this window">The timeline reads the redo in backups, in the archive and in the current log.</EmptyState>
      ) : (
        <ol aria-label="Deletion timeline" className="space-y-2">
          {entries.map((d) => (
            <li key={d.seq} className="rounded-lg border border-slate-200 bg-white p-3 shadow-sm">
              <div className="flex flex-wrap items-center gap-2 text-sm">
                <span className="whitespace-nowrap text-slate-500"><When iso={d.at} /></span>
                <Badge tone={d.op === "MoveItems" ? "amber" : "red"}>{d.opName}</Badge>
                <span className="font-medium">{d.email ?? d.accountId}</span>
                <span className="text-slate-700">{d.what}</span>
                <span className="text-xs text-slate-400">redo {d.seq}</span>
                {d.restorable.ok ? (
                  <Link href={restoreBeforeHref(d)} className={`${buttonClass("primary")} ml-auto`}>
                    Restore to just before this
                  </Link>
                ) : (
                  <span className="ml-auto text-xs text-amber-800">Cannot be restored: {d.restorable.reason}</span>
                )}
              </div>
              {d.items.length > 0 && (d.count > 2 || d.folders.length > 0) && (
                <ul className="mt-2 grid gap-x-6 gap-y-0.5 pl-1 text-sm text-slate-700 md:grid-cols-2">
                  {d.items.slice(0, 10).map((i) => (
                    <li key={i.id} className="truncate">
                      {i.subject ?? i.name ?? `${i.type} ${i.id}`}
                      {i.folder && i.folder !== d.folder && <span className="ml-1 text-xs text-slate-500">in {i.folder}</span>}
                    </li>
                  ))}
                  {d.count > 10 && <li className="text-slate-500">and {d.count - 10} more</li>}
                </ul>
              )}
            </li>
          ))}
        </ol>
      )}
      {pages.hasNextPage && (
        <button className={`${buttonClass()} mt-3`} onClick={() => pages.fetchNextPage()} disabled={pages.isFetchingNextPage}>
          {pages.isFetchingNextPage ? "Loading…" : "Older deletions"}
        </button>
      )}
    </>
  );
}

type RedoRow = RedoPage["records"][number];

const OPERATION_COLUMNS: GridColumn<RedoRow>[] = [
  { id: "seq", header: "Seq", size: 90, sort: (r) => r.seq, className: "tabular-nums text-slate-500", cell: (r) => r.seq },
  { id: "when", header: "When", size: 190, sort: (r) => r.at, className: "whitespace-nowrap text-slate-500", cell: (r) => <When iso={r.at} /> },
  { id: "operation", header: "Operation", size: 190, sort: (r) => r.opName, cell: (r) => <span title={r.op}>{r.opName}</span> },
  { id: "what", header: "What", size: 460, sort: (r) => r.summary, cell: (r) => <span title={r.summary}>{r.summary}</span> },
  {
    id: "actions",
    header: "",
    srLabel: "Actions",
    size: 190,
    align: "right",
    wrap: true,
    cell: (r) =>
      DELETING.has(r.op) && (
        <Link href={restoreBeforeHref(r)} className="text-sm font-medium whitespace-nowrap text-sky-700 hover:underline">
          Restore to just before
        </Link>
      ),
  },
];

function Operations({ server, query }: { server: string; query: URLSearchParams }) {
  const pages = useInfiniteQuery({
    queryKey: ["redo", server, query.toString()],
    initialPageParam: 0,
    queryFn: ({ pageParam }) => getJson<RedoPage>(`/api/servers/${encodeURIComponent(server)}/redo?${query}&limit=100${pageParam ? `&afterSeq=${pageParam}` : ""}`),
    getNextPageParam: (last) => last.nextAfterSeq ?? undefined,
  });
  if (pages.isPending) return <Loading rows={6} />;
  if (pages.isError) return <ErrorState error={pages.error} retry={() => pages.refetch()} />;
  const records = pages.data.pages.flatMap((p) => p.records);
  if (records.length === 0) return <EmptyState title="No operation matches">The archive and the current log hold the redo since the last incremental backup moved it.</EmptyState>;
  return (
    <>
      <DataGrid label="Redo operations" columns={OPERATION_COLUMNS} rows={records} rowKey={(r) => r.seq} />
      {pages.hasNextPage && (
        <button className={`${buttonClass()} mt-3`} onClick={() => pages.fetchNextPage()} disabled={pages.isFetchingNextPage}>
          {pages.isFetchingNextPage ? "Loading…" : "Load more"}
        </button>
      )}
    </>
  );
}

/** The redo browser: a server's recorded operations, filtered, and the deletions that people ask about. */
export function RedoBrowser() {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const servers = useServers();
  const server = params.get("server") || servers.data?.[0]?.name || "";
  const view = params.get("view") === "ops" ? "ops" : "deletions";
  const [account, setAccount] = useState(params.get("account") ?? "");
  const [search, setSearch] = useState(params.get("q") ?? "");
  const set = (changes: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) if (v) next.set(k, v); else next.delete(k);
    router.replace(`${pathname}?${next}`, { scroll: false });
  };
  const query = new URLSearchParams();
  for (const key of ["account", "from", "to", ...(view === "ops" ? ["op"] : ["q"])]) if (params.get(key)) query.set(key, params.get(key)!);
  const utc = (v: string) => (v ? `${v.length === 16 ? `${v}:00` : v}Z` : "");
  // The operations and their names in words, as the server defines them (asked once).
  const operations = useQuery({
    queryKey: ["redo-operations", server],
    queryFn: () => getJson<RedoPage>(`/api/servers/${encodeURIComponent(server)}/redo?limit=1`).then((p) => p.operations),
    enabled: Boolean(server) && view === "ops",
    staleTime: Infinity,
  });
  return (
    <>
      <PageHeader title="Redo browser" subtitle="Every recorded change of a server: find when something was deleted, and restore to just before it." />
      <form
        aria-label="Filter the redo"
        className="mb-4 flex flex-wrap items-end gap-3"
        onSubmit={(e) => {
          e.preventDefault();
          set({ account: account.trim(), q: view === "deletions" ? search.trim() : "" });
        }}
      >
        <label className="flex flex-col gap-1 text-sm">
          Server
          <select value={server} onChange={(e) => set({ server: e.target.value })} className={inputClass}>
            {servers.data?.map((s) => (
              <option key={s.name}>{s.name}</option>
            ))}
          </select>
        </label>
        <label className="flex flex-col gap-1 text-sm">
          Account (any name it had)
          <span className="flex gap-1">
            <input type="search" aria-label="Account" value={account} onChange={(e) => setAccount(e.target.value)} placeholder="alice@example.com" className={`${inputClass} w-64`} />
            <button type="submit" className={buttonClass()}>
              Show
            </button>
          </span>
        </label>
        {view === "deletions" && (
          <label className="flex flex-col gap-1 text-sm">
            Folder or subject
            <input type="search" aria-label="Search deletions" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="Projects" className={`${inputClass} w-48`} />
          </label>
        )}
        <label className="flex flex-col gap-1 text-sm">
          From (UTC)
          <input type="datetime-local" value={(params.get("from") ?? "").replace(/(:00)?Z$/, "")} onChange={(e) => set({ from: utc(e.target.value) })} className={inputClass} />
        </label>
        <label className="flex flex-col gap-1 text-sm">
          To (UTC)
          <input type="datetime-local" value={(params.get("to") ?? "").replace(/(:00)?Z$/, "")} onChange={(e) => set({ to: utc(e.target.value) })} className={inputClass} />
        </label>
        {view === "ops" && (
          <label className="flex flex-col gap-1 text-sm">
            Operation
            <select value={params.get("op") ?? ""} onChange={(e) => set({ op: e.target.value })} className={inputClass}>
              <option value="">any</option>
              {(operations.data ?? []).map((o) => (
                <option key={o.op} value={o.op}>
                  {o.name}
                </option>
              ))}
            </select>
          </label>
        )}
      </form>
      <div role="tablist" aria-label="View" className="mb-4 flex gap-1">
        {(
          [
            ["deletions", "Deletions"],
            ["ops", "All operations"],
          ] as const
        ).map(([v, label]) => (
          <button
            key={v}
            role="tab"
            aria-selected={view === v}
            onClick={() => set({ view: v === "ops" ? "ops" : "" })}
            className={`rounded-md px-3 py-1.5 text-sm font-medium ${view === v ? "bg-slate-900 text-white" : "text-slate-600 hover:bg-slate-200"}`}
          >
            {label}
          </button>
        ))}
      </div>
      {!server ? (
        servers.isError ? <ErrorState error={servers.error} retry={() => servers.refetch()} /> : <Loading rows={4} />
      ) : view === "ops" ? (
        <Operations server={server} query={query} />
      ) : (
        <Deletions server={server} query={query} />
      )}
    </>
  );
}
