"use client";

import { BackupNow } from "./backup-now";
import { DrillButton } from "./drills";
import { useMutation } from "@tanstack/react-query";
import { getJson } from "./api";
import { useHealth, useServer } from "./queries";
import { RecoveryCard } from "./recovery-card";
import { ReportsCard } from "./reports-card";
import { StoreCards } from "./store-cards";
import { TargetsCard } from "./targets-card";
import { useIsAdmin } from "./use-me";
import { Badge, Card, Dot, ErrorState, Field, formatBytes, Loading, PageHeader, TextLink, When } from "./ui";

interface PingResult {
  worker: string;
  roundTripMs: number;
}

function PingButton({ server }: { server: string }) {
  const ping = useMutation({ mutationFn: () => getJson<PingResult>(`/api/servers/${encodeURIComponent(server)}/ping`, { method: "POST" }) });
  return (
    <div className="flex flex-col items-end gap-1">
      <button
        onClick={() => ping.mutate()}
        disabled={ping.isPending}
        className="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-700 shadow-sm hover:bg-slate-50 focus-visible:ring-2 focus-visible:ring-sky-400 disabled:opacity-50"
      >
        {ping.isPending ? "Pinging…" : "Ping worker"}
      </button>
      {ping.isSuccess && <span className="text-xs text-emerald-700">answered by {ping.data.worker} in {ping.data.roundTripMs} ms</span>}
      {ping.isError && <span className="text-xs text-red-700">{ping.error.message}</span>}
    </div>
  );
}

export function ServerDetail({ name }: { name: string }) {
  const server = useServer(name);
  const health = useHealth();
  const isAdmin = useIsAdmin();
  if (server.isPending) return <Loading rows={8} />;
  if (server.isError) return <ErrorState error={server.error} retry={() => server.refetch()} />;
  const s = server.data;
  const worker = health.data?.workers[s.name];
  return (
    <>
      <PageHeader title={`Server ${s.name}`} subtitle={s.hostname} actions={
          isAdmin ? (
            <span className="flex flex-col items-end gap-2">
              <BackupNow server={s.name} />
              <span className="flex items-start gap-2">
                <DrillButton server={s.name} />
                <PingButton server={s.name} />
              </span>
            </span>
          ) : undefined
        } />
      <div className="grid gap-4 lg:grid-cols-2">
        <StoreCards server={s.name} maxAgeSeconds={s.settings.redoArchive.maxAgeSeconds} />
        <Card title="Storage">
          <dl>
            <Field label="Mailstore database">
              <code className="font-mono text-xs">{s.mailstoreDatabase}</code>
            </Field>
            <Field label="Blob volume">
              <code className="font-mono text-xs">{s.blobVolumePath}</code>
            </Field>
            <Field label="Redo archive">
              <code className="font-mono text-xs">{s.redoArchivePath}</code>
            </Field>
            <Field label="Backup target">
              <code className="font-mono text-xs">{s.backupTarget}</code>
            </Field>
          </dl>
        </Card>
        <Card title="Accounts" actions={<TextLink href={`/accounts?server=${s.name}`}>Browse</TextLink>}>
          <dl>
            <Field label="Active">{s.accounts.active}</Field>
            <Field label="Maintenance">{s.accounts.maintenance}</Field>
            <Field label="Locked">{s.accounts.locked}</Field>
            <Field label="Closed">{s.accounts.closed}</Field>
            <Field label="Deleted">{s.accounts.deleted}</Field>
          </dl>
        </Card>
        <Card title="Backups">
          <dl>
            <Field label="Mode">
              <Badge tone={s.backupMode === "auto_grouped" ? "violet" : "blue"}>{s.backupMode === "auto_grouped" ? "auto-grouped" : "standard"}</Badge>
            </Field>
            {s.backupMode === "auto_grouped" && (
              <Field label="Groups">
                {s.settings.autoGrouped.groups}
                {s.settings.autoGrouped.throttle ? " (throttled)" : ""}
              </Field>
            )}
            <Field label="Minimum free space">
              {formatBytes(s.settings.minFreeBytes)} and {s.settings.minFreePercent}%
            </Field>
            <Field label="Redo kept after incremental">{Math.round(s.settings.redoKeepSeconds / 60)} min</Field>
            <Field label="Redo archive limits">
              {formatBytes(s.settings.redoArchive.maxBytes)} or {s.settings.redoArchive.maxAgeSeconds} s
            </Field>
          </dl>
        </Card>
        <Card title="Worker">
          <dl>
            <Field label="Status">
              <Dot ok={worker?.ok ?? false} label={worker?.detail ?? "unknown"} />
            </Field>
            <Field label="Concurrency">{s.settings.workerConcurrency} jobs per worker</Field>
            <Field label="LMTP listener">
              {s.settings.lmtpHost}:{s.settings.lmtpPort}
            </Field>
            <Field label="In directory since"><When iso={s.createdAt} /></Field>
          </dl>
        </Card>
        <RecoveryCard server={s.name} />
        <ReportsCard server={s.name} />
        <TargetsCard server={s.name} />
      </div>
    </>
  );
}
