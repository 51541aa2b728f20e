"use client";

import Link from "next/link";
import type { HealthReport } from "@/server/health/check-health";
import type { ServerSummary } from "@/server/directory/list-servers";
import { useHealth, useServers } from "./queries";
import { Badge, Card, Dot, EmptyState, ErrorState, formatDate, Loading, PageHeader } from "./ui";

function SystemStatus({ health }: { health: HealthReport | undefined }) {
  if (!health) return null;
  return (
    <div className="mb-6 flex flex-wrap items-center gap-x-6 gap-y-2 rounded-lg border border-slate-200 bg-white px-4 py-3 shadow-sm">
      <span className="text-sm font-semibold text-slate-700">System</span>
      <Dot ok={health.postgres.ok} label={health.postgres.ok ? "Console database" : health.postgres.detail} />
      <Dot ok={health.redis.ok} label={health.redis.ok ? "Redis" : health.redis.detail} />
      <span className="ml-auto text-xs text-slate-400">checked {new Date(health.checkedAt).toLocaleTimeString()}</span>
    </div>
  );
}

function LastBackupLines({ server }: { server: ServerSummary }) {
  const b = server.backups;
  const link = (label: string) => `/sessions/${encodeURIComponent(label)}?server=${encodeURIComponent(server.name)}`;
  return (
    <>
      {b.running && (
        <p className="text-sky-800">
          Backing up: <Link href={link(b.running.label)} className="font-mono text-xs hover:underline">{b.running.label}</Link> ({b.running.accountsDone}/{b.running.accountsTotal})
        </p>
      )}
      <p className={b.full ? "text-slate-600" : "text-amber-700"}>
        Last full:{" "}
        {b.full ? (
          <Link href={link(b.full.label)} className="hover:underline">
            {formatDate(b.full.endedAt)}
          </Link>
        ) : (
          "none yet"
        )}
      </p>
      <p className="text-slate-600">
        Last incremental:{" "}
        {b.incremental ? (
          <Link href={link(b.incremental.label)} className="hover:underline">
            {formatDate(b.incremental.endedAt)}
          </Link>
        ) : (
          "none yet"
        )}
      </p>
      {b.failuresLast7Days > 0 && (
        <p className="text-red-700">
          <Link href="/sessions" className="hover:underline">
            {b.failuresLast7Days} failed or interrupted session(s) in 7 days
          </Link>
        </p>
      )}
    </>
  );
}

export function Dashboard() {
  const servers = useServers();
  const health = useHealth();
  return (
    <>
      <PageHeader title="Dashboard" subtitle="Mailbox servers, their workers and their backups at a glance." />
      <SystemStatus health={health.data} />
      {servers.isPending ? (
        <Card>
          <Loading rows={4} />
        </Card>
      ) : servers.isError ? (
        <ErrorState error={servers.error} retry={() => servers.refetch()} />
      ) : servers.data.length === 0 ? (
        <EmptyState title="No mailbox servers yet">Run `npm run seed` to create the demo servers.</EmptyState>
      ) : (
        <div className="grid gap-4 md:grid-cols-2 xl:grid-cols-3">
          {servers.data.map((server) => {
            const worker = health.data?.workers[server.name];
            return (
              <Card
                key={server.name}
                title={
                  <Link href={`/servers/${server.name}`} className="text-base text-slate-900 hover:text-sky-700 hover:underline">
                    {server.name}
                  </Link>
                }
                actions={<Badge tone={server.backupMode === "auto_grouped" ? "violet" : "blue"}>{server.backupMode === "auto_grouped" ? "auto-grouped" : "standard"}</Badge>}
              >
                <p className="mb-3 truncate text-xs text-slate-500">{server.hostname}</p>
                <dl className="grid grid-cols-3 gap-3 text-center">
                  <div className="rounded-md bg-slate-50 py-2">
                    <dt className="text-xs text-slate-500">Accounts</dt>
                    <dd className="text-lg font-semibold tabular-nums">{server.accounts.total - server.accounts.deleted}</dd>
                  </div>
                  <div className="rounded-md bg-slate-50 py-2">
                    <dt className="text-xs text-slate-500">Active</dt>
                    <dd className="text-lg font-semibold tabular-nums">{server.accounts.active}</dd>
                  </div>
                  <div className="rounded-md bg-slate-50 py-2">
                    <dt className="text-xs text-slate-500">Deleted</dt>
                    <dd className="text-lg font-semibold tabular-nums">{server.accounts.deleted}</dd>
                  </div>
                </dl>
                <div className="mt-4 flex flex-col gap-1.5 text-sm">
                  <Dot ok={worker?.ok ?? false} label={`Worker: ${worker?.detail ?? "unknown"}`} />
                  <LastBackupLines server={server} />
                </div>
              </Card>
            );
          })}
        </div>
      )}
    </>
  );
}
