"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { TargetView } from "@/server/backup/server-targets";
import { getJson, sendJson } from "./api";
import { useIsAdmin } from "./use-me";
import { Badge, buttonClass, Card, ErrorText, formatBytes, formatDate, TextLink } from "./ui";
import { DataGrid, type GridColumn } from "./data-grid";

/** Copy all sessions the target lacks; the job's page shows how it goes. */
function CopyNow({ server, to }: { server: string; to: string }) {
  const client = useQueryClient();
  const copy = useMutation({
    mutationFn: () => sendJson<{ jobId: string }>("POST", `/api/servers/${encodeURIComponent(server)}/copies`, { to, all: true }),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["servers", server, "targets"] }),
  });
  return (
    <div className="flex flex-col items-start gap-1">
      <button onClick={() => copy.mutate()} disabled={copy.isPending} className={`${buttonClass()} whitespace-nowrap`}>
        {copy.isPending ? "Queuing…" : "Copy now"}
      </button>
      {copy.isSuccess && <TextLink href={`/jobs/${encodeURIComponent(copy.data.jobId)}?server=${encodeURIComponent(server)}`}>copy job {copy.data.jobId}</TextLink>}
      <ErrorText error={copy.error} />
    </div>
  );
}

function targetColumns(server: string, isAdmin: boolean): GridColumn<TargetView>[] {
  return [
    {
      id: "target",
      header: "Target",
      size: 140,
      sort: (t) => t.name,
      className: "font-medium text-slate-800",
      cell: (t) => (
        <>
          {t.name} {t.role === "copy" && <Badge tone="violet">copy</Badge>}
        </>
      ),
    },
    { id: "kind", header: "Kind", size: 90, fixed: true, sort: (t) => t.kind, cell: (t) => (t.kind === "s3" ? "S3 bucket" : "folder") },
    {
      id: "location",
      header: "Location",
      size: 280,
      sort: (t) => t.location,
      cell: (t) => (
        <>
          <code className="font-mono text-xs" title={t.location}>
            {t.location}
          </code>
          {t.error && <p className="truncate text-xs text-red-700" title={t.error}>cannot be read: {t.error}</p>}
        </>
      ),
    },
    { id: "encrypted", header: "Encrypted", size: 110, fixed: true, wrap: true, cell: (t) => (t.encrypted === null ? "?" : t.encrypted ? <Badge tone="green">encrypted</Badge> : <Badge>no</Badge>) },
    { id: "packs", header: "Packs", size: 80, align: "right", sort: (t) => t.packBytes, cell: (t) => (t.packBytes === null ? "?" : formatBytes(t.packBytes)) },
    { id: "free", header: "Free", size: 80, align: "right", sort: (t) => t.freeBytes, cell: (t) => (t.freeBytes === null ? "—" : formatBytes(t.freeBytes)) },
    { id: "sessions", header: "Sessions", size: 90, align: "right", sort: (t) => t.sessions, cell: (t) => t.sessions },
    { id: "copy", header: "Last copy", size: 180, cell: (t) => <span title={lastCopy(t)}>{lastCopy(t)}</span> },
    ...(isAdmin ? [{ id: "actions", header: "", srLabel: "Actions", size: 120, wrap: true, cell: (t: TargetView) => t.role === "copy" && <CopyNow server={server} to={t.name} /> }] : []),
  ];
}

function lastCopy(t: TargetView): string {
  if (t.role === "primary") return "—";
  return t.lastCopy ? `${t.lastCopy.label}, ${formatDate(t.lastCopy.at)}` : "never";
}

/** Where the server's backups are: its own target and its copy targets (3-2-1). */
export function TargetsCard({ server }: { server: string }) {
  const isAdmin = useIsAdmin();
  const targets = useQuery({
    queryKey: ["servers", server, "targets"],
    queryFn: () => getJson<{ targets: TargetView[] }>(`/api/servers/${encodeURIComponent(server)}/targets`),
  });
  const list = targets.data?.targets ?? [];
  return (
    <Card title="Backup targets" className="lg:col-span-2">
      {targets.isError && <ErrorText error={targets.error} />}
      {list.length > 0 && (
        <DataGrid label="Backup targets" framed={false} columns={targetColumns(server, isAdmin)} rows={list} rowKey={(t) => t.name} />
      )}
      {list.length === 1 && (
        <p className="mt-2 text-sm text-slate-600">
          No copy targets: every backup of {server} is in one place. Add one with <code className="font-mono text-xs">./bin/mailvault targets add -s {server} offsite s3://bucket/{server}</code>.
        </p>
      )}
    </Card>
  );
}
