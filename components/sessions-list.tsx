"use client";

import Link from "next/link";
import { useState } from "react";
import { BackupNow } from "./backup-now";
import { useIsAdmin } from "./use-me";
import { useServers, useSessions } from "./queries";
import { ProgressBar, SessionKind, SessionStatus, VerifyBadge } from "./session-badges";
import { EmptyState, ErrorState, formatBytes, Loading, PageHeader, When } from "./ui";
import { useDebounced } from "./use-debounced";

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
        <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
          <table className="min-w-full text-sm" aria-label="Sessions">
            <thead className="bg-slate-50 text-left text-xs uppercase tracking-wide text-slate-500">
              <tr>
                <th className="px-4 py-2 font-medium">Session</th>
                <th className="px-4 py-2 font-medium">Server</th>
                <th className="px-4 py-2 font-medium">Kind</th>
                <th className="px-4 py-2 font-medium">Status</th>
                <th className="px-4 py-2 font-medium">Verified</th>
                <th className="px-4 py-2 font-medium">Accounts</th>
                <th className="px-4 py-2 font-medium">Redo</th>
                <th className="px-4 py-2 text-right font-medium">Written</th>
                <th className="px-4 py-2 font-medium">Started</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {sessions.data.sessions.map((s) => (
                <tr key={`${s.server}/${s.label}`} className="hover:bg-slate-50">
                  <td className="px-4 py-2">
                    <Link href={`/sessions/${encodeURIComponent(s.label)}?server=${encodeURIComponent(s.server)}`} className="font-mono text-xs font-medium text-sky-800 hover:underline">
                      {s.label}
                    </Link>
                    {s.accountEmail && <div className="text-xs text-slate-500">as {s.accountEmail}</div>}
                  </td>
                  <td className="px-4 py-2">{s.server}</td>
                  <td className="px-4 py-2">
                    <SessionKind type={s.type} mode={s.mode} excludeBlobs={s.excludeBlobs} />
                  </td>
                  <td className="px-4 py-2">
                    <SessionStatus status={s.status} />
                  </td>
                  <td className="px-4 py-2 whitespace-nowrap">{s.status === "completed" ? <VerifyBadge verify={s.verify} /> : null}</td>
                  <td className="px-4 py-2">
                    {s.status === "running" ? (
                      s.phase === "accounts" ? (
                        <ProgressBar done={s.accountsDone} total={s.accountsTotal} />
                      ) : (
                        <span className="text-slate-500">{s.phase === "publishing" ? "publishing" : "preparing the redo"}</span>
                      )
                    ) : (
                      <span className="tabular-nums">{s.fullAccounts} full</span>
                    )}
                  </td>
                  <td className="px-4 py-2 font-mono text-xs text-slate-600">{s.redoThroughSeq === null ? "—" : `${s.redoFromSeq ?? "…"}–${s.redoThroughSeq}`}</td>
                  <td className="px-4 py-2 text-right tabular-nums">{formatBytes(s.bytesWritten)}</td>
                  <td className="px-4 py-2 whitespace-nowrap text-slate-500"><When iso={s.createdAt} /></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
