"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import type { DrillView } from "@/server/drill/submit-drill";
import { getJson, sendJson } from "./api";
import { SessionStatus } from "./session-badges";
import { buttonClass, Card, EmptyState, ErrorState, ErrorText, Field, formatDuration, Loading, PageHeader, TextLink, When } from "./ui";
import { DataGrid, type GridColumn } from "./data-grid";
import { useIsAdmin } from "./use-me";

const ACTIVE = ["queued", "running"];

function rto(value: number | null): string {
  return value === null ? "—" : `${value.toFixed(2)} s per MiB`;
}

/** "Run a restore drill" (admins): 3 accounts at random points; the drill's page follows it. */
const DRILL_COLUMNS: GridColumn<DrillView>[] = [
  { id: "drill", header: "Drill", size: 220, sort: (d) => d.label, cell: (d) => <TextLink href={`/drills/${encodeURIComponent(d.label)}`}>{d.label}</TextLink> },
  { id: "server", header: "Server", size: 96, fixed: true, sort: (d) => d.server, cell: (d) => d.server },
  {
    id: "outcome",
    header: "Outcome",
    size: 280,
    sort: (d) => d.status,
    wrap: true,
    cell: (d) => (
      <>
        <SessionStatus status={d.status} />
        {d.status !== "passed" && d.summary && <p className="mt-1 text-xs break-words text-slate-600">{d.summary}</p>}
      </>
    ),
  },
  {
    id: "accounts",
    header: "Accounts",
    size: 260,
    sort: (d) => d.evidence.length,
    cell: (d) => {
      const text = d.evidence.map((e) => e.email).join(", ") || "—";
      return <span title={text}>{text}</span>;
    },
  },
  { id: "rto", header: "RTO", size: 120, sort: (d) => d.rtoSecondsPerMib, className: "whitespace-nowrap", cell: (d) => rto(d.rtoSecondsPerMib) },
  {
    id: "started",
    header: "Started",
    size: 200,
    sort: (d) => d.startedAt ?? d.createdAt,
    wrap: true,
    className: "text-slate-500",
    cell: (d) => (
      <>
        <When iso={d.startedAt ?? d.createdAt} className="whitespace-nowrap" />
        <div className="truncate text-xs" title={d.requestedBy}>
          by {d.requestedBy}
        </div>
      </>
    ),
  },
];

export function DrillButton({ server }: { server: string }) {
  const router = useRouter();
  const client = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const start = useMutation({
    mutationFn: () => sendJson<{ label: string }>("POST", "/api/drills", { server }),
    onSuccess: (d) => {
      void client.invalidateQueries({ queryKey: ["drills"] });
      router.push(`/drills/${encodeURIComponent(d.label)}`);
    },
  });
  if (!confirming) {
    return (
      <button onClick={() => setConfirming(true)} className={buttonClass()}>
        Run a restore drill…
      </button>
    );
  }
  return (
    <span role="group" aria-label="Confirm the restore drill" className="flex flex-col items-end gap-1 text-sm">
      <span className="text-slate-600">3 accounts of {server} at random points, into scratch mailboxes; live accounts are not touched.</span>
      <span className="flex gap-2">
        <button onClick={() => setConfirming(false)} className={buttonClass()}>
          Cancel
        </button>
        <button onClick={() => start.mutate()} disabled={start.isPending} className={buttonClass("primary")}>
          {start.isPending ? "Starting…" : "Start the drill"}
        </button>
      </span>
      <ErrorText error={start.error} />
    </span>
  );
}

export function DrillList() {
  const drills = useQuery({
    queryKey: ["drills"],
    queryFn: () => getJson<{ drills: DrillView[] }>("/api/drills").then((r) => r.drills),
    refetchInterval: (q) => (q.state.data?.some((d) => ACTIVE.includes(d.status)) ? 1_000 : 10_000),
  });
  return (
    <>
      <PageHeader title="Restore drills" subtitle="Backups proven by restoring them: each drill's accounts, points, plans, timings and verdict." />
      {drills.isPending ? (
        <Loading rows={5} />
      ) : drills.isError ? (
        <ErrorState error={drills.error} retry={() => drills.refetch()} />
      ) : drills.data.length === 0 ? (
        <EmptyState title="No drills yet">Run one from a server&apos;s page, with `./bin/mailvault drill -s &lt;server&gt;`, or schedule one (r &quot;0 4 * * 0&quot;).</EmptyState>
      ) : (
        <DataGrid label="Restore drills" columns={DRILL_COLUMNS} rows={drills.data} rowKey={(d) => d.label} rowClassName={() => "align-top"} />
      )}
    </>
  );
}

export function DrillDetail({ label }: { label: string }) {
  const isAdmin = useIsAdmin();
  const drill = useQuery({
    queryKey: ["drills", label],
    queryFn: () => getJson<DrillView>(`/api/drills/${encodeURIComponent(label)}`),
    refetchInterval: (q) => (ACTIVE.includes(q.state.data?.status ?? "queued") ? 1_000 : false),
  });
  if (drill.isPending) return <Loading rows={6} />;
  if (drill.isError) return <ErrorState error={drill.error} retry={() => drill.refetch()} />;
  const d = drill.data;
  return (
    <>
      <PageHeader
        title={d.label}
        subtitle={
          <span className="flex flex-wrap items-center gap-2">
            <SessionStatus status={d.status} />
            <span>
              restore drill on <TextLink href={`/servers/${d.server}`}>{d.server}</TextLink>, asked by {d.requestedBy || "?"} at <When iso={d.createdAt} />
            </span>
          </span>
        }
        actions={isAdmin && !ACTIVE.includes(d.status) ? <DrillButton server={d.server} /> : undefined}
      />
      {d.summary && (
        <p
          aria-label="Verdict"
          className={`mb-4 rounded-lg border px-4 py-3 text-sm ${d.status === "passed" ? "border-emerald-200 bg-emerald-50 text-emerald-900" : "border-red-200 bg-red-50 text-red-800"}`}
        >
          {d.summary}
        </p>
      )}
      <Card title="Drill" className="mb-4">
        <dl>
          <Field label="Asked for">
            {Array.isArray(d.request.accounts) ? d.request.accounts.join(", ") : `${d.request.accounts} account(s) chosen at random`}, at{" "}
            {d.request.at === "latest" ? "their latest state" : "random points"}
          </Field>
          <Field label="Started"><When iso={d.startedAt} /></Field>
          {d.durationMs !== null && <Field label="Duration">{formatDuration(d.durationMs)}</Field>}
          <Field label="Measured RTO">{rto(d.rtoSecondsPerMib)}</Field>
        </dl>
      </Card>
      {d.evidence.length === 0 && ACTIVE.includes(d.status) && <p className="text-sm text-slate-600">{d.status === "queued" ? "Waiting for a worker…" : "Restoring…"}</p>}
      <ul aria-label="Evidence" className="grid gap-4 xl:grid-cols-2">
        {d.evidence.map((e) => (
          <li key={e.accountId}>
            <Card
              title={
                <span className="flex flex-wrap items-center gap-2">
                  <TextLink href={`/accounts/${e.accountId}`}>{e.email}</TextLink>
                  <SessionStatus status={e.identical ? "identical" : "different"} />
                </span>
              }
            >
              <dl>
                <Field label="Point">
                  redo {e.point.seq} ({e.at === "latest" ? "latest state" : "random point"})
                </Field>
                {e.note && <Field label="Note">{e.note}</Field>}
                <Field label="Restored from">
                  {e.plan.full ? e.plan.full : e.plan.fromCreate ? `redo alone, from its creation (redo ${e.plan.fromCreate})` : "—"}
                  {e.plan.redoSessions.length > 0 && <>, then the redo of {e.plan.redoSessions.join(", ")}</>}
                  {e.plan.archive && <>, the archive</>}
                  {e.plan.currentLog && <>, the current log</>}
                </Field>
                <Field label="Compared with">{e.expected || "—"}</Field>
                <Field label="Restore">
                  {e.items} items, {(e.bytes / 1048576).toFixed(2)} MiB in {formatDuration(e.restoreMs)}; the full&apos;s message bodies read back from the backup in{" "}
                  {formatDuration(e.readBackMs ?? 0)}
                </Field>
              </dl>
              {e.error && <p className="mt-2 rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">{e.error}</p>}
              {e.differences.length > 0 && (
                <ul aria-label={`Differences of ${e.email}`} className="mt-2 list-disc space-y-1 pl-5 text-sm text-red-800">
                  {e.differences.map((x) => (
                    <li key={x}>{x}</li>
                  ))}
                </ul>
              )}
            </Card>
          </li>
        ))}
      </ul>
    </>
  );
}
