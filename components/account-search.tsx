"use client";

import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useEffect, useState } from "react";
import { useAccounts, useServers } from "./queries";
import { DataGrid, type GridColumn } from "./data-grid";
import type { AccountHit } from "@/server/directory/search-accounts";
import { Badge, EmptyState, ErrorState, formatDate, Loading, PageHeader, StatusBadge, When } from "./ui";
import { useDebounced } from "./use-debounced";

const PAGE_SIZE = 25;
const STATUSES = ["active", "maintenance", "locked", "closed", "deleted"];

const selectClass =
  "rounded-md border border-slate-300 bg-white px-2 py-2 text-sm shadow-sm focus:border-sky-500 focus:outline-none focus:ring-2 focus:ring-sky-200";

const ACCOUNT_COLUMNS: GridColumn<AccountHit>[] = [
  {
    id: "email",
    header: "Email",
    size: 420,
    sort: (a) => a.email,
    wrap: true,
    cell: (a) => (
      <div className="flex flex-wrap items-center gap-1.5">
        <Link href={`/accounts/${a.id}`} className={`font-medium break-all hover:underline ${a.deletedAt ? "text-slate-500 line-through decoration-slate-400" : "text-sky-800"}`}>
          {a.email}
        </Link>
        {a.copyOf && (
          <Badge tone="blue" title="A prefixed copy made by a restore">
            copy of {a.copyOf}
          </Badge>
        )}
        {a.matchedFormerName && <Badge tone="amber">formerly {a.matchedFormerName}</Badge>}
        {!a.matchedFormerName && a.formerNameCount > 0 && (
          <Badge tone="slate" title="This account has been renamed">
            {a.formerNameCount} former name{a.formerNameCount > 1 ? "s" : ""}
          </Badge>
        )}
      </div>
    ),
  },
  { id: "name", header: "Name", size: 180, sort: (a) => a.displayName, cell: (a) => <span title={a.displayName}>{a.displayName}</span> },
  { id: "server", header: "Server", size: 90, sort: (a) => a.server, cell: (a) => a.server },
  {
    id: "status",
    header: "Status",
    size: 150,
    sort: (a) => (a.deletedAt ? "deleted" : a.status),
    wrap: true,
    cell: (a) =>
      a.deletedAt ? (
        <Badge tone="red" title={`deleted ${formatDate(a.deletedAt)}`}>
          deleted {a.deletedAt.slice(0, 10)}
        </Badge>
      ) : (
        <StatusBadge status={a.status} />
      ),
  },
  { id: "created", header: "Created", size: 110, sort: (a) => a.createdAt, className: "whitespace-nowrap text-slate-500", cell: (a) => <When iso={a.createdAt} dateOnly /> },
];

export function AccountSearch() {
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const [text, setText] = useState(params.get("q") ?? "");
  const q = useDebounced(text.trim(), 250);
  const server = params.get("server") ?? "";
  const status = params.get("status") ?? "";
  const kind = params.get("kind") ?? "";
  const page = Math.max(1, Number(params.get("page")) || 1);
  const servers = useServers();
  const accounts = useAccounts({ q, server, status, kind, page, pageSize: PAGE_SIZE });

  // Keep the URL in step with the search, so a link reproduces what an admin saw.
  const update = (changes: Record<string, string | number>) => {
    const next = new URLSearchParams(params);
    for (const [key, value] of Object.entries(changes)) {
      if (value === "" || (key === "page" && value === 1)) next.delete(key);
      else next.set(key, String(value));
    }
    router.replace(next.size ? `${pathname}?${next}` : pathname, { scroll: false });
  };
  useEffect(() => {
    if ((params.get("q") ?? "") !== q) update({ q, page: 1 });
    // eslint-disable-next-line react-hooks/exhaustive-deps -- only the debounced text drives this
  }, [q]);

  const data = accounts.data;
  const first = data && data.total > 0 ? (data.page - 1) * data.pageSize + 1 : 0;
  const last = data ? Math.min(data.page * data.pageSize, data.total) : 0;
  const pages = data ? Math.max(1, Math.ceil(data.total / data.pageSize)) : 1;

  return (
    <>
      <PageHeader title="Accounts" subtitle="Search by current or former email address; deleted accounts are included." />
      <div className="mb-4 flex flex-wrap gap-2">
        <label className="min-w-64 flex-1">
          <span className="sr-only">Search accounts</span>
          <input
            type="search"
            autoFocus
            value={text}
            onChange={(e) => setText(e.target.value)}
            placeholder="Search by email, current or former (e.g. carol.smith@)"
            className="w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm placeholder:text-slate-400 focus:border-sky-500 focus:outline-none focus:ring-2 focus:ring-sky-200"
          />
        </label>
        <label>
          <span className="sr-only">Server</span>
          <select value={server} onChange={(e) => update({ server: e.target.value, page: 1 })} className={selectClass}>
            <option value="">All servers</option>
            {servers.data?.map((s) => (
              <option key={s.name} value={s.name}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span className="sr-only">Status</span>
          <select value={status} onChange={(e) => update({ status: e.target.value, page: 1 })} className={selectClass}>
            <option value="">Any status</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span className="sr-only">Kind</span>
          <select aria-label="Kind" value={kind} onChange={(e) => update({ kind: e.target.value, page: 1 })} className={selectClass}>
            <option value="">Accounts and copies</option>
            <option value="originals">Accounts only</option>
            <option value="copies">Restored copies only</option>
          </select>
        </label>
      </div>

      {accounts.isPending ? (
        <div className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
          <Loading rows={8} />
        </div>
      ) : accounts.isError ? (
        <ErrorState error={accounts.error} retry={() => accounts.refetch()} />
      ) : data!.items.length === 0 ? (
        <EmptyState title={q ? `No account has ever been called “${q}”` : "No accounts"}>
          {q ? "The search covers every name an account has had, and deleted accounts." : "Try another server or status."}
        </EmptyState>
      ) : (
        <div className={`overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm ${accounts.isFetching ? "opacity-70" : ""}`}>
          <DataGrid label="Accounts" framed={false} columns={ACCOUNT_COLUMNS} rows={data!.items} rowKey={(a) => a.id} rowClassName={(a) => (a.deletedAt ? "bg-slate-50/60 text-slate-500" : "hover:bg-slate-50")} />
          <div className="flex items-center justify-between border-t border-slate-100 px-4 py-2 text-sm text-slate-600">
            <span>
              {first}–{last} of {data!.totalExact ? "" : "about "}
              {data!.total.toLocaleString("en")}
            </span>
            <div className="flex items-center gap-2">
              <button
                onClick={() => update({ page: page - 1 })}
                disabled={page <= 1}
                className="rounded-md border border-slate-300 px-2.5 py-1 hover:bg-slate-50 disabled:opacity-40"
              >
                Previous
              </button>
              <span className="tabular-nums">
                Page {page} of {data!.totalExact ? "" : "about "}
                {pages.toLocaleString("en")}
              </span>
              <button
                onClick={() => update({ page: page + 1 })}
                disabled={page >= pages}
                className="rounded-md border border-slate-300 px-2.5 py-1 hover:bg-slate-50 disabled:opacity-40"
              >
                Next
              </button>
            </div>
          </div>
        </div>
      )}
    </>
  );
}
