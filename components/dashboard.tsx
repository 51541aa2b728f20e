"use client";

import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import type { HealthReport } from "@/server/health/check-health";
import type { DashboardFacts, ServerFacts } from "@/server/health/dashboard-facts";
import type { ServerSummary } from "@/server/directory/list-servers";
import { getJson } from "./api";
import { RiskLines, SessionStrip } from "./dashboard-risk";
import { TrendCharts } from "./trend-charts";
import { useHealth, useServers } from "./queries";
import { Badge, Card, Dot, EmptyState, ErrorState, formatBytes, Loading, PageHeader, When } from "./ui";

function formatLag(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** Redo archive lag, running jobs and backup target space: each fact says its own error. */
function ServerFactLines({ server, facts, error }: { server: ServerSummary; facts: ServerFacts | undefined; error: Error | null }) {
  if (!facts) return error ? <p className="text-red-700">Server facts: {error.message}</p> : <p className="text-slate-400">Reading the server…</p>;
  const lagTooHigh = facts.redo ? facts.redo.lagSeconds > 2 * server.settings.redoArchive.maxAgeSeconds : false;
  return (
    <>
      {facts.redo ? (
        <p className={lagTooHigh ? "text-amber-700" : "text-slate-600"}>
          Redo archive lag:{" "}
          <Link href={`/servers/${server.name}`} className="hover:underline">
            {facts.redo.unarchivedRecords === 0 ? "none" : `${formatLag(facts.redo.lagSeconds)} (${facts.redo.unarchivedRecords} records)`}
          </Link>
        </p>
      ) : (
        <p className="text-red-700">Redo: {facts.redoError}</p>
      )}
      {facts.jobs ? (
        <p className="text-slate-600">
          Jobs:{" "}
          <Link href={`/jobs?server=${server.name}`} className="hover:underline">
            {facts.jobs.active} running, {facts.jobs.waiting} queued
          </Link>
          {facts.jobs.failed > 0 && <span className="text-red-700">, {facts.jobs.failed} failed</span>}
        </p>
      ) : (
        <p className="text-red-700">Jobs: {facts.jobsError}</p>
      )}
      {facts.freeSpace ? (
        <p className={facts.freeSpace.belowMinimum ? "font-medium text-red-700" : "text-slate-600"}>
          Backup target: {formatBytes(facts.freeSpace.freeBytes)} free ({facts.freeSpace.freePercent.toFixed(0)}%)
          {facts.freeSpace.belowMinimum && " — below the minimum, backups will be refused"}
          <span className="text-slate-500"> · measured by the {facts.freeSpace.measuredBy}</span>
        </p>
      ) : facts.objectStore ? (
        <p className="text-slate-600">Backup target: object store {facts.objectStore} (no fixed free space to watch)</p>
      ) : (
        <p className="text-red-700">Backup target: {facts.freeSpaceError}</p>
      )}
    </>
  );
}

function SystemStatus({ health }: { health: HealthReport | undefined }) {
  if (!health) return null;
  return (
    <div className="mb-6 flex flex-wrap items-center gap-x-6 gap-y-2 rounded-lg border border-slate-200 bg-white px-4 py-3 shadow-sm">
      <span className="text-sm font-semibold text-slate-700">System</span>
      <Dot ok={health.postgres.ok} label={health.postgres.ok ? "Console database" : health.postgres.detail} />
      <Dot ok={health.redis.ok} label={health.redis.ok ? "Redis" : health.redis.detail} />
      <span className="ml-auto text-xs text-slate-400">checked <When iso={health.checkedAt} /></span>
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
            <When iso={b.full.endedAt} />
          </Link>
        ) : (
          "none yet"
        )}
      </p>
      <p className="text-slate-600">
        Last incremental:{" "}
        {b.incremental ? (
          <Link href={link(b.incremental.label)} className="hover:underline">
            <When iso={b.incremental.endedAt} />
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
  const facts = useQuery({ queryKey: ["dashboard"], queryFn: () => getJson<DashboardFacts>("/api/dashboard"), refetchInterval: 5_000 });
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
            const serverFacts = facts.data?.servers.find((f) => f.server === server.name);
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
                  {serverFacts && <RiskLines facts={serverFacts} />}
                  <Dot ok={worker?.ok ?? false} label={`Worker: ${worker?.detail ?? "unknown"}`} />
                  <LastBackupLines server={server} />
                  <ServerFactLines server={server} facts={serverFacts} error={facts.error} />
                  {serverFacts && <SessionStrip server={server.name} history={serverFacts.history} />}
                </div>
              </Card>
            );
          })}
        </div>
      )}
      {facts.data && (
        <div className="mt-6 grid gap-4">
          {facts.data.servers.map((f) => (
            <TrendCharts key={f.server} server={f.server} history={f.history} />
          ))}
        </div>
      )}
    </>
  );
}
