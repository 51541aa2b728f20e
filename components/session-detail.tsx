"use client";

import { ConfirmButton } from "./confirm-button";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { getJson } from "./api";
import { useSession } from "./queries";
import { restoreHref, SessionActions } from "./session-actions";
import { ProgressBar, SessionKind, SessionStatus, VerifyBadge } from "./session-badges";
import type { SessionSummary } from "@/server/backup/query-sessions";
import { Card, EmptyState, ErrorState, Field, formatBytes, formatDuration, Loading, PageHeader, TextLink, When } from "./ui";
import { DataGrid, type GridColumn } from "./data-grid";
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

const PHASES: [string, string][] = [
  ["sealing", "Sealing the redo log"],
  ["redo", "Copying the redo into the session"],
  ["accounts", "Backing up accounts"],
  ["publishing", "Publishing: manifest, commit, catalog"],
];

/** A running session's step of four, with throughput and an ETA while it backs up accounts. */
function SessionProgress({ s }: { s: SessionSummary }) {
  const step = PHASES.findIndex(([code]) => code === s.phase);
  const since = s.phaseStartedAt ? (Date.now() - Date.parse(s.phaseStartedAt)) / 1000 : 0;
  const rate = s.phase === "accounts" && since > 1 ? s.bytesWritten / since : null;
  const eta = s.phase === "accounts" && s.accountsDone > 0 && s.accountsTotal > s.accountsDone ? ((s.accountsTotal - s.accountsDone) * since) / s.accountsDone : null;
  return (
    <Card className="mb-4">
      <p aria-label="Phase" className="mb-2 text-sm text-slate-700">
        {s.status === "queued" || step < 0 ? "Waiting for a worker" : `Step ${step + 1} of ${PHASES.length}: ${PHASES[step]![1]}`}
        {s.phase === "accounts" && s.currentAccount && <span className="text-slate-500">, now {s.currentAccount}</span>}
        {step >= 0 && s.phase !== "accounts" && since >= 1 && <span className="text-slate-500"> ({Math.round(since)} s)</span>}
      </p>
      {s.phase === "accounts" && <ProgressBar done={s.accountsDone} total={s.accountsTotal} />}
      <p className="mt-2 text-xs text-slate-500">
        {formatBytes(s.bytesWritten)} written
        {rate !== null && `, ${formatBytes(rate)}/s`}
        {eta !== null && `, about ${formatDuration(eta * 1000)} left`}
      </p>
    </Card>
  );
}

type SessionDetailView = NonNullable<ReturnType<typeof useSession>["data"]>;
type SessionAccount = SessionDetailView["accounts"][number];

function sessionAccountColumns(s: SessionDetailView): GridColumn<SessionAccount>[] {
  return [
    { id: "email", header: "Email then", size: 260, sort: (a) => a.email, cell: (a) => <TextLink href={`/accounts/${a.accountId}`}>{a.email}</TextLink> },
    { id: "now", header: "Now", size: 220, sort: (a) => a.currentEmail, className: "text-slate-600", cell: (a) => (a.currentEmail === a.email ? "same" : (a.currentEmail ?? "deleted")) },
    {
      id: "kind",
      header: "In this session",
      size: 260,
      sort: (a) => a.kind,
      cell: (a) => (
        <span title={a.reason}>
          {a.kind === "full" ? "full snapshot" : "changes in redo"}
          <span className="ml-2 text-xs text-slate-500">{a.reason}</span>
        </span>
      ),
    },
    { id: "items", header: "Items", size: 80, align: "right", sort: (a) => (a.kind === "full" ? a.items : null), cell: (a) => (a.kind === "full" ? a.items : "") },
    { id: "change", header: "Change #", size: 90, align: "right", sort: (a) => a.changeNumber, cell: (a) => a.changeNumber ?? "" },
    {
      id: "actions",
      header: "",
      srLabel: "Actions",
      size: 180,
      align: "right",
      wrap: true,
      cell: (a) =>
        s.status === "completed" && (
          <span className="flex justify-end gap-3 whitespace-nowrap">
            <TextLink href={`/accounts/${a.accountId}?label=${encodeURIComponent(s.label)}#messages`}>Browse</TextLink>
            <TextLink href={restoreHref({ label: s.label, type: s.type, account: a.accountId })}>Restore</TextLink>
          </span>
        ),
    },
  ];
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
      {active && <SessionProgress s={s} />}
      {s.error && (
        <div role="alert" className="mb-4 rounded-lg border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800">
          {s.error}
        </div>
      )}
      <div className="grid gap-4 lg:grid-cols-3">
        <Card title="Timing">
          <dl>
            <Field label="Queued"><When iso={s.createdAt} /></Field>
            <Field label="Started"><When iso={s.startedAt} /></Field>
            <Field label="Ended"><When iso={s.endedAt} /></Field>
            {s.startedAt && <Field label="Duration">{formatDuration((s.endedAt ? Date.parse(s.endedAt) : Date.now()) - Date.parse(s.startedAt))}</Field>}
            {s.status === "completed" && (
              <Field label="Last verify">
                {s.verify ? (
                  <>
                    <VerifyBadge verify={s.verify} /> <span className="text-slate-500"><When iso={s.verify.at} /></span>
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
          <DataGrid label="Session accounts" framed={false} columns={sessionAccountColumns(s)} rows={s.accounts} rowKey={(a) => a.accountId} />
        )}
      </Card>
    </>
  );
}
