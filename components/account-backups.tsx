"use client";

import { useQuery } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import type { SessionSummary } from "@/server/backup/query-sessions";
import { getJson } from "./api";
import { RestoreTimeline, type RestorePointsView } from "./restore-wizard/timeline";
import { restoreHref } from "./session-actions";
import { SessionKind, SessionStatus } from "./session-badges";
import { Card, EmptyState, ErrorState, formatDate, Loading, TextLink, When } from "./ui";

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
        <EmptyState title="No backup holds this account yet" />
      ) : (
        <div className="overflow-x-auto">
          <table aria-label="Backup history" className="min-w-full text-sm">
            <thead className="text-left text-xs uppercase tracking-wide text-slate-500">
              <tr>
                <th className="px-3 py-2 font-medium">Session</th>
                <th className="px-3 py-2 font-medium">Kind</th>
                <th className="px-3 py-2 font-medium">Status</th>
                <th className="px-3 py-2 font-medium">Ended</th>
                <th className="px-3 py-2 font-medium">Name then</th>
                <th className="px-3 py-2 font-medium">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {sessions.data.sessions.map((s) => (
                <tr key={s.id}>
                  <td className="px-3 py-1.5">
                    <TextLink href={`/sessions/${encodeURIComponent(s.label)}?server=${encodeURIComponent(s.server)}`}>{s.label}</TextLink>
                  </td>
                  <td className="px-3 py-1.5">
                    <SessionKind type={s.type} mode={s.mode} />
                  </td>
                  <td className="px-3 py-1.5">
                    <SessionStatus status={s.status} />
                  </td>
                  <td className="px-3 py-1.5 whitespace-nowrap text-slate-500"><When iso={s.endedAt} /></td>
                  <td className="px-3 py-1.5 text-slate-600">{s.accountEmail ?? ""}</td>
                  <td className="px-3 py-1.5 text-right">
                    {s.status === "completed" && (
                      <span className="flex justify-end gap-3 whitespace-nowrap">
                        <TextLink href={`/accounts/${accountId}?label=${encodeURIComponent(s.label)}#messages`}>Browse its mail</TextLink>
                        <TextLink href={restoreHref({ label: s.label, type: s.type, account: accountId })}>Restore from here</TextLink>
                      </span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}
