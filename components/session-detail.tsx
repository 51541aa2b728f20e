"use client";

import { ConfirmButton } from "./confirm-button";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { getJson } from "./api";
import { useSession } from "./queries";
import { restoreHref, SessionActions } from "./session-actions";
import { ProgressBar, SessionKind, SessionStatus, VerifyBadge } from "./session-badges";
import { Card, EmptyState, ErrorState, Field, formatBytes, formatDate, Loading, PageHeader, TextLink } from "./ui";
import { useDebounced } from "./use-debounced";

function AbortButton({ server, jobId, label }: { server: string; jobId: string; label: string }) {
  const client = useQueryClient();
  const abort = useMutation({
    mutationFn: () => getJson(`/api/jobs/${encodeURIComponent(jobId)}?server=${encodeURIComponent(server)}`, { method: "DELETE" }),
    onSettled: () => client.invalidateQueries({ queryKey: ["sessions"] }),
  });
  return (
    <ConfirmButton
      label={abort.isSuccess ? "Aborting…" : "Abort"}
      question={`Abort ${label}? Nothing it wrote is published.`}
      cancelLabel="Keep it running"
      confirmLabel="Abort the backup"
      onConfirm={() => abort.mutate()}
      busy={abort.isPending || abort.isSuccess}
    />
  );
}

export function SessionDetailView({ server, label }: { server: string; label: string }) {
  const [text, setText] = useState("");
  const q = useDebounced(text.trim(), 250);
  const query = useSession(server, label, q);
  if (query.isPending) return <Loading rows={8} />;
  if (query.isError) return <ErrorState error={query.error} retry={() => query.refetch()} />;
  const s = query.data;
  const active = s.status === "running" || s.status === "queued";
  return (
    <>
      <PageHeader
        title={s.label}
        subtitle={
          <span className="flex flex-wrap items-center gap-2">
            <SessionStatus status={s.status} />
            <SessionKind type={s.type} mode={s.mode} excludeBlobs={s.excludeBlobs} />
            <span>
              on <TextLink href={`/servers/${s.server}`}>{s.server}</TextLink>, requested by {s.requestedBy || "?"}
            </span>
          </span>
        }
        actions={
          active && s.jobId ? <AbortButton server={s.server} jobId={s.jobId} label={s.label} /> : s.status === "completed" ? <SessionActions server={s.server} label={s.label} type={s.type} /> : undefined
        }
      />
      {active && (
        <Card className="mb-4">
          <p className="mb-2 text-sm text-slate-600">{s.currentAccount ? `Backing up ${s.currentAccount}` : s.status === "queued" ? "Waiting for a worker" : "Preparing"}</p>
          <ProgressBar done={s.accountsDone} total={s.accountsTotal} />
          <p className="mt-2 text-xs text-slate-500">{formatBytes(s.bytesWritten)} written</p>
        </Card>
      )}
      {s.error && (
        <div role="alert" className="mb-4 rounded-lg border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800">
          {s.error}
        </div>
      )}
      <div className="grid gap-4 lg:grid-cols-3">
        <Card title="Timing">
          <dl>
            <Field label="Queued">{formatDate(s.createdAt)}</Field>
            <Field label="Started">{formatDate(s.startedAt)}</Field>
            <Field label="Ended">{formatDate(s.endedAt)}</Field>
            {s.status === "completed" && (
              <Field label="Last verify">
                {s.verify ? (
                  <>
                    <VerifyBadge verify={s.verify} /> <span className="text-slate-500">{formatDate(s.verify.at)}</span>
                    {s.verify.first && <span className="block text-xs text-red-700">{s.verify.first}{s.verify.problems > 1 ? ` (and ${s.verify.problems - 1} more)` : ""}</span>}
                  </>
                ) : (
                  "never verified"
                )}
              </Field>
            )}
          </dl>
        </Card>
        <Card title="Contents">
          <dl>
            <Field label="Full snapshots">{s.fullAccounts}</Field>
            <Field label="Redo">
              {s.redoThroughSeq === null || s.redoFromSeq === null
                ? "none: the first session of a server holds no redo"
                : s.redoFromSeq > s.redoThroughSeq
                  ? "none: nothing changed since the session before"
                  : `records ${s.redoFromSeq} to ${s.redoThroughSeq} (${s.redoSegments} ${s.redoSegments === 1 ? "segment" : "segments"})`}
            </Field>
          </dl>
        </Card>
        <Card title="Size">
          <dl>
            <Field label="Written">{formatBytes(s.bytesWritten)}</Field>
            <Field label="Blobs referenced">
              {s.blobsReferenced} ({formatBytes(s.blobBytesReferenced)})
            </Field>
            <Field label="Blobs stored new">
              {s.blobsNew} ({formatBytes(s.blobBytesNew)})
            </Field>
            <Field label="Dedup">{s.dedupRatio === null ? (s.blobsReferenced ? "every blob was already stored" : "—") : `${s.dedupRatio.toFixed(1)}×`}</Field>
          </dl>
        </Card>
      </div>
      {s.warnings.length > 0 && (
        <Card title="Warnings" className="mt-4">
          <ul className="list-inside list-disc text-sm text-amber-800">
            {s.warnings.map((w) => (
              <li key={w}>{w}</li>
            ))}
          </ul>
        </Card>
      )}
      <Card
        title="Accounts, under the names they had at the time"
        className="mt-4"
        actions={
          <label>
            <span className="sr-only">Search accounts in this session</span>
            <input
              type="search"
              value={text}
              onChange={(e) => setText(e.target.value)}
              placeholder="Search, old or new name"
              className="w-56 rounded-md border border-slate-300 px-2 py-1 text-sm focus:border-sky-500 focus:outline-none focus:ring-2 focus:ring-sky-200"
            />
          </label>
        }
      >
        {s.accounts.length === 0 ? (
          <EmptyState title={q ? `No account here matches “${q}”` : "No accounts in this session"} />
        ) : (
          <div className="overflow-x-auto">
            <table className="min-w-full text-sm" aria-label="Session accounts">
              <thead className="text-left text-xs uppercase tracking-wide text-slate-500">
                <tr>
                  <th className="px-3 py-2 font-medium">Email then</th>
                  <th className="px-3 py-2 font-medium">Now</th>
                  <th className="px-3 py-2 font-medium">In this session</th>
                  <th className="px-3 py-2 text-right font-medium">Items</th>
                  <th className="px-3 py-2 text-right font-medium">Change #</th>
                  <th className="px-3 py-2 font-medium">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {s.accounts.map((a) => (
                  <tr key={a.accountId}>
                    <td className="px-3 py-1.5">
                      <TextLink href={`/accounts/${a.accountId}`}>{a.email}</TextLink>
                    </td>
                    <td className="px-3 py-1.5 text-slate-600">{a.currentEmail === a.email ? "same" : (a.currentEmail ?? "deleted")}</td>
                    <td className="px-3 py-1.5">
                      {a.kind === "full" ? "full snapshot" : "changes in redo"}
                      <span className="ml-2 text-xs text-slate-500">{a.reason}</span>
                    </td>
                    <td className="px-3 py-1.5 text-right tabular-nums">{a.kind === "full" ? a.items : ""}</td>
                    <td className="px-3 py-1.5 text-right tabular-nums">{a.changeNumber ?? ""}</td>
                    <td className="px-3 py-1.5 text-right">
                      {s.status === "completed" && (
                        <TextLink href={restoreHref({ label: s.label, type: s.type, account: a.accountId })}>Restore</TextLink>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </>
  );
}
