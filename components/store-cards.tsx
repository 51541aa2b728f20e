"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { getJson } from "./api";
import { useStoreStatus } from "./queries";
import { useIsAdmin } from "./use-me";
import { Card, ErrorState, Field, formatBytes, Loading, When } from "./ui";

function formatLag(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function ArchiveNow({ server }: { server: string }) {
  const client = useQueryClient();
  const archive = useMutation({
    mutationFn: () => getJson<{ result: { status: string; records: number; segments: string[] } }>(`/api/servers/${encodeURIComponent(server)}/redo/archive`, { method: "POST" }),
    onSettled: () => client.invalidateQueries({ queryKey: ["servers", server, "store"] }),
  });
  return (
    <div className="flex flex-col items-end gap-1">
      <button
        onClick={() => archive.mutate()}
        disabled={archive.isPending}
        className="rounded-md border border-slate-300 bg-white px-2.5 py-1 text-xs font-medium text-slate-700 hover:bg-slate-50 disabled:opacity-50"
      >
        {archive.isPending ? "Archiving…" : "Archive now"}
      </button>
      {archive.isSuccess && (
        <span className="text-xs text-emerald-700">
          {archive.data.result.status}: {archive.data.result.records} records
        </span>
      )}
      {archive.isError && <span className="text-xs text-red-700">{archive.error.message}</span>}
    </div>
  );
}

export function StoreCards({ server, maxAgeSeconds }: { server: string; maxAgeSeconds: number }) {
  const status = useStoreStatus(server);
  const isAdmin = useIsAdmin();
  if (status.isPending)
    return (
      <Card title="Mailstore">
        <Loading rows={4} />
      </Card>
    );
  if (status.isError) return <ErrorState error={status.error} retry={() => status.refetch()} />;
  const s = status.data;
  const lagging = s.redo.lagSeconds > maxAgeSeconds * 2;
  return (
    <>
      <Card title="Mailstore">
        <dl>
          <Field label="Mailboxes">{s.mailboxes.toLocaleString()}</Field>
          <Field label="Items">
            {s.items.toLocaleString()} ({s.messages.toLocaleString()} messages)
          </Field>
          <Field label="Blobs">
            {s.blobs.toLocaleString()} ({formatBytes(s.blobBytes)}, each stored once)
          </Field>
          <Field label="Mailbox groups">{s.mailboxGroups}</Field>
        </dl>
      </Card>
      <Card title="Redo log" actions={isAdmin ? <ArchiveNow server={server} /> : undefined}>
        <dl>
          <Field label="Current sequence">{s.redo.currentSeq.toLocaleString()}</Field>
          <Field label="Last archived">
            {s.redo.lastArchivedSeq.toLocaleString()}
            {s.redo.lastArchivedAt && <span className="text-slate-500"> at <When iso={s.redo.lastArchivedAt} /></span>}
          </Field>
          <Field label="Archive lag">
            <span className={lagging ? "font-medium text-red-700" : undefined}>
              {s.redo.unarchivedRecords.toLocaleString()} records, {formatBytes(s.redo.unarchivedBytes)}, oldest {formatLag(s.redo.lagSeconds)} old
            </span>
          </Field>
          <Field label="Archive">
            {s.redo.segments} segments, {formatBytes(s.redo.archiveBytes)}
          </Field>
        </dl>
      </Card>
    </>
  );
}
