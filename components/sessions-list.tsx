"use client";

import Link from "next/link";
import { useState } from "react";
import { BackupNow } from "./backup-now";
import { useIsAdmin } from "./use-me";
import { useServers, useSessions } from "./queries";
import { ProgressBar, SessionKind, SessionStatus, VerifyBadge } from "./session-badges";
import { EmptyState, ErrorState, formatBytes, Loading, PageHeader, When } from "./ui";
import { useDebounced } from "./use-debounced";
import { DataGrid, type GridColumn } from "./data-grid";
import type { SessionSummary } from "@/server/backup/query-sessions";

const SESSION_COLUMNS: GridColumn<SessionSummary & { accountEmail?: string | null }>[] = [
  {
    id: "session",
    header: "Session",
    size: 250,
    sort: (s) => s.label,
    cell: (s) => (
      <>
        <Link href={`/sessions/${encodeURIComponent(s.label)}?server=${encodeURIComponent(s.server)}`} className="font-mono text-xs font-medium text-sky-800 hover:underline" title={s.label}>
          {s.label}
        </Link>
        {s.accountEmail && <div className="truncate text-xs text-slate-500">as {s.accountEmail}</div>}
      </>
    ),
  },
  { id: "server", header: "Server", size: 96, fixed: true, sort: (s) => s.server, cell: (s) => s.server },
  { id: "kind", header: "Kind", size: 150, sort: (s) => s.type, wrap: true, cell: (s) => <SessionKind type={s.type} mode={s.mode} excludeBlobs={s.excludeBlobs} /> },
  {
    id: "status",
    header: "Status",
    size: 160,
    sort: (s) => s.status,
    wrap: true,
    cell: (s) => (
      <span className="flex flex-wrap items-center gap-1">
        <SessionStatus status={s.status} />
        {s.status === "completed" && <VerifyBadge verify={s.verify} />}
      </span>
    ),
  },
  {
    id: "accounts",
    header: "Accounts",
    size: 150,
    sort: (s) => s.fullAccounts,
    cell: (s) =>
      s.status === "running" ? (
        s.phase === "accounts" ? (
          <ProgressBar done={s.accountsDone} total={s.accountsTotal} />
        ) : (
          <span className="text-slate-500">{s.phase === "publishing" ? "publishing" : "preparing the redo"}</span>
        )
      ) : (
        <span className="tabular-nums">{s.fullAccounts} full</span>
      ),
  },
  { id: "redo", header: "Redo", size: 120, sort: (s) => s.redoThroughSeq, className: "font-mono text-xs text-slate-600", cell: (s) => (s.redoThroughSeq === null ? "—" : `${s.redoFromSeq ?? "…"}–${s.redoThroughSeq}`) },
  { id: "written", header: "Written", size: 90, align: "right", sort: (s) => s.bytesWritten, cell: (s) => formatBytes(s.bytesWritten) },
  { id: "started", header: "Started", size: 190, sort: (s) => s.createdAt, className: "whitespace-nowrap text-slate-500", cell: (s) => <When iso={s.createdAt} /> },
];

const select = "rounded-md border border-slate-300 bg-white px-2 py-2 text-sm shadow-sm focus:border-sky-500 focus:outline-none focus:ring-2 focus:ring-sky-200";

export function SessionsList() {
  const servers = useServers();
  const isAdmin = useIsAdmin();
  const [server, setServer] = useState("");
  const [type, setType] = useState("");
  const [status, setStatus] = useState("");
  const [account, setAccount] = useState("");
  const debounced = useDebounced(account.trim(), 300);
  const sessions = useSessions({ server, type, status, account: debounced });
  return (
    <>
      <PageHeader title="Backup sessions" subtitle="Full, incremental and auto-grouped sessions, newest first." actions={isAdmin ? <BackupNow server={server || undefined} /> : undefined} />
      <div className="mb-4 flex flex-wrap gap-2">
        <label className="min-w-64 flex-1">
          <span className="sr-only">Account (any name it ever had)</span>
          <input
            type="search"
            value={account}
            onChange={(e) => setAccount(e.target.value)}
            placeholder="Sessions holding an account: its exact email, current or former"
            className="w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm placeholder:text-slate-400 focus:border-sky-500 focus:outline-none focus:ring-2 focus:ring-sky-200"
          />
        </label>
        <label>
          <span className="sr-only">Server</span>
          <select value={server} onChange={(e) => setServer(e.target.value)} className={select}>
            <option value="">All servers</option>
            {servers.data?.map((s) => (
              <option key={s.name}>{s.name}</option>
            ))}
          </select>
        </label>
        <label>
          <span className="sr-only">Type</span>
          <select value={type} onChange={(e) => setType(e.target.value)} className={select}>
            <option value="">Full and incremental</option>
            <option value="full">full</option>
            <option value="incremental">incremental</option>
          </select>
        </label>
        <label>
          <span className="sr-only">Status</span>
          <select value={status} onChange={(e) => setStatus(e.target.value)} className={select}>
            <option value="">Any status</option>
            {["running", "completed", "failed", "aborted", "interrupted"].map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
      </div>
      {sessions.isPending ? (
        <Loading rows={6} />
      ) : sessions.isError ? (
        <ErrorState error={sessions.error} retry={() => sessions.refetch()} />
      ) : sessions.data.sessions.length === 0 ? (
        <EmptyState title={debounced ? `No session holds ${debounced}` : "No backup sessions yet"}>
          {debounced ? "The account is matched by any email it ever had, exactly." : "Start one with “Back up now”, or from cron with ./bin/mailvault backup -f -s mail1."}
        </EmptyState>
      ) : (
        <DataGrid label="Sessions" columns={SESSION_COLUMNS} rows={sessions.data.sessions} rowKey={(s) => `${s.server}/${s.label}`} rowClassName={() => "hover:bg-slate-50"} />
      )}
    </>
  );
}
