"use client";

import { useQuery } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import type { SessionSummary } from "@/server/backup/query-sessions";
import { getJson } from "./api";
import { RestoreTimeline, type RestorePointsView } from "./restore-wizard/timeline";
import { restoreHref } from "./session-actions";
import { SessionKind, SessionStatus } from "./session-badges";
import { Card, EmptyState, ErrorState, formatDate, Loading, TextLink, When } from "./ui";
import { DataGrid, type GridColumn } from "./data-grid";

/** The account's restore points on a timeline; clicking a full opens the wizard on it. */
export function RecoverableWindow({ accountId }: { accountId: string }) {
  const router = useRouter();
  const points = useQuery({ queryKey: ["restore-points", accountId], queryFn: () => getJson<RestorePointsView>(`/api/accounts/${accountId}/restore-points`) });
  return (
    <Card title="Restore points" className="lg:col-span-2">
      {points.isPending ? (
        <Loading rows={2} />
      ) : points.isError ? (
        <ErrorState error={points.error} retry={() => points.refetch()} />
      ) : (
        <>
          {points.data.fulls.length > 0 && (
            <p className="mb-2 text-sm text-slate-700">
              Restorable from <span className="font-medium"><When iso={points.data.window.earliest} /></span> to{" "}
              <span className="font-medium">{points.data.window.latestIsNow || !points.data.window.latest ? "now" : formatDate(points.data.window.latest)}</span>.
            </p>
          )}
          <RestoreTimeline
            points={points.data}
            point={{ kind: "latest" }}
            onChoose={(p) => p.kind === "session" && router.push(restoreHref({ label: p.label, type: p.type, account: accountId }))}
          />
        </>
      )}
    </Card>
  );
}

function historyColumns(accountId: string): GridColumn<SessionSummary & { accountEmail?: string | null }>[] {
  return [
    { id: "session", header: "Session", size: 240, sort: (s) => s.label, cell: (s) => <TextLink href={`/sessions/${encodeURIComponent(s.label)}?server=${encodeURIComponent(s.server)}`}>{s.label}</TextLink> },
    { id: "kind", header: "Kind", size: 130, sort: (s) => s.type, wrap: true, cell: (s) => <SessionKind type={s.type} mode={s.mode} /> },
    { id: "status", header: "Status", size: 110, sort: (s) => s.status, wrap: true, cell: (s) => <SessionStatus status={s.status} /> },
    { id: "ended", header: "Ended", size: 190, sort: (s) => s.endedAt, className: "whitespace-nowrap text-slate-500", cell: (s) => <When iso={s.endedAt} /> },
    { id: "name", header: "Name then", size: 220, sort: (s) => s.accountEmail, className: "text-slate-600", cell: (s) => <span title={s.accountEmail ?? ""}>{s.accountEmail ?? ""}</span> },
    {
      id: "actions",
      header: "",
      srLabel: "Actions",
      size: 250,
      align: "right",
      wrap: true,
      cell: (s) =>
        s.status === "completed" && (
          <span className="flex justify-end gap-3 whitespace-nowrap">
            <TextLink href={`/accounts/${accountId}?label=${encodeURIComponent(s.label)}#messages`}>Browse its mail</TextLink>
            <TextLink href={restoreHref({ label: s.label, type: s.type, account: accountId })}>Restore from here</TextLink>
          </span>
        ),
    },
  ];
}

/** Every session that holds the account, newest first, under the name it had then. */
export function BackupHistory({ accountId }: { accountId: string }) {
  const sessions = useQuery({
    queryKey: ["sessions", "account", accountId],
    queryFn: () => getJson<{ sessions: SessionSummary[]; total: number }>(`/api/sessions?account=${accountId}&pageSize=50`),
  });
  return (
    <Card title={`Backup history${sessions.data ? ` (${sessions.data.total})` : ""}`} className="lg:col-span-2">
      {sessions.isPending ? (
        <Loading rows={3} />
      ) : sessions.isError ? (
        <ErrorState error={sessions.error} retry={() => sessions.refetch()} />
      ) : sessions.data.sessions.length === 0 ? (
        <EmptyState title="No backup holds this account" />
      ) : (
        <DataGrid label="Backup history" framed={false} columns={historyColumns(accountId)} rows={sessions.data.sessions} rowKey={(s) => s.id} />
      )}
    </Card>
  );
}
