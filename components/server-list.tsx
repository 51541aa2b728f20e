"use client";

import { useHealth, useServers } from "./queries";
import { Badge, Card, Dot, EmptyState, ErrorState, Loading, PageHeader, TextLink } from "./ui";
import { DataGrid, type GridColumn } from "./data-grid";

type ServerRow = NonNullable<ReturnType<typeof useServers>["data"]>[number];
type Workers = NonNullable<ReturnType<typeof useHealth>["data"]>["workers"] | undefined;

function serverColumns(workers: Workers): GridColumn<ServerRow>[] {
  return [
    {
      id: "server",
      header: "Server",
      size: 200,
      sort: (s) => s.name,
      cell: (s) => (
        <>
          <TextLink href={`/servers/${s.name}`}>{s.name}</TextLink>
          <div className="truncate text-xs text-slate-500">{s.hostname}</div>
        </>
      ),
    },
    {
      id: "mode",
      header: "Backup mode",
      size: 140,
      sort: (s) => s.backupMode,
      wrap: true,
      cell: (s) => <Badge tone={s.backupMode === "auto_grouped" ? "violet" : "blue"}>{s.backupMode === "auto_grouped" ? "auto-grouped" : "standard"}</Badge>,
    },
    { id: "accounts", header: "Accounts", size: 100, align: "right", sort: (s) => s.accounts.total - s.accounts.deleted, cell: (s) => s.accounts.total - s.accounts.deleted },
    {
      id: "worker",
      header: "Worker",
      size: 130,
      wrap: true,
      cell: (s) => {
        const worker = workers?.[s.name];
        return <Dot ok={worker?.ok ?? false} label={worker ? (worker.ok ? `${worker.count} alive` : "down") : "unknown"} />;
      },
    },
    { id: "target", header: "Backup target", size: 340, sort: (s) => s.backupTarget, className: "font-mono text-xs text-slate-600", cell: (s) => <span title={s.backupTarget}>{s.backupTarget}</span> },
  ];
}

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
        <DataGrid label="Servers" columns={serverColumns(health.data?.workers)} rows={servers.data} rowKey={(s) => s.name} rowClassName={() => "hover:bg-slate-50"} />
      )}
    </>
  );
}
