"use client";

import { useHealth, useServers } from "./queries";
import { Badge, Card, Dot, EmptyState, ErrorState, Loading, PageHeader, TextLink } from "./ui";

export function ServerList() {
  const servers = useServers();
  const health = useHealth();
  return (
    <>
      <PageHeader title="Servers" subtitle="Each mailbox server has its own mailstore database, blob volume, redo archive and backup target." />
      {servers.isPending ? (
        <Card>
          <Loading rows={4} />
        </Card>
      ) : servers.isError ? (
        <ErrorState error={servers.error} retry={() => servers.refetch()} />
      ) : servers.data.length === 0 ? (
        <EmptyState title="No mailbox servers yet">Run `npm run seed` to create the demo servers.</EmptyState>
      ) : (
        <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
          <table className="min-w-full text-sm">
            <thead className="bg-slate-50 text-left text-xs uppercase tracking-wide text-slate-500">
              <tr>
                <th className="px-4 py-2 font-medium">Server</th>
                <th className="px-4 py-2 font-medium">Backup mode</th>
                <th className="px-4 py-2 text-right font-medium">Accounts</th>
                <th className="px-4 py-2 font-medium">Worker</th>
                <th className="px-4 py-2 font-medium">Backup target</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {servers.data.map((s) => {
                const worker = health.data?.workers[s.name];
                return (
                  <tr key={s.name} className="hover:bg-slate-50">
                    <td className="px-4 py-2">
                      <TextLink href={`/servers/${s.name}`}>{s.name}</TextLink>
                      <div className="text-xs text-slate-500">{s.hostname}</div>
                    </td>
                    <td className="px-4 py-2">
                      <Badge tone={s.backupMode === "auto_grouped" ? "violet" : "blue"}>{s.backupMode === "auto_grouped" ? "auto-grouped" : "standard"}</Badge>
                    </td>
                    <td className="px-4 py-2 text-right tabular-nums">{s.accounts.total - s.accounts.deleted}</td>
                    <td className="px-4 py-2">
                      <Dot ok={worker?.ok ?? false} label={worker ? (worker.ok ? `${worker.count} alive` : "down") : "unknown"} />
                    </td>
                    <td className="max-w-xs truncate px-4 py-2 font-mono text-xs text-slate-600" title={s.backupTarget}>
                      {s.backupTarget}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
