"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import type { AccountPage } from "@/server/directory/search-accounts";
import type { RestoreRunDetail } from "@/server/restore/get-restore-run";
import type { RestorePlan } from "@/server/restore/plan-restore";
import { getJson, sendJson } from "./api";
import { ConfirmButton } from "./confirm-button";
import { FormerNames, PlanPreview, pointPhrase } from "./restore-wizard/plan-preview";
import { ProgressBar, SessionStatus } from "./session-badges";
import { buttonClass, Card, EmptyState, ErrorState, ErrorText, Field, formatDuration, Loading, PageHeader, TextLink, When } from "./ui";
import { useIsAdmin } from "./use-me";
import { DataGrid, type GridColumn } from "./data-grid";

/** A run as GET /api/restores answers it, with the outcome the worker records at the end. */
export type RestoreRunView = Omit<RestoreRunDetail, "result"> & {
  result: {
    restored: { requested: string; target: string; snapshotItems: number; replayed: number; skipped: number; gaps: { from: number; to: number }[] }[];
    failures: string[];
    skipped: { requested: string; skipped: string }[];
    /** Accounts the run did not restore, why, and what became of them (older runs have none). */
    notRestored?: { requested: string; accountId: string; reason: string; action: "kept" | "maintenance" }[];
    summary?: string;
    fullBackup: string | null;
    /** In place: until when the sessions its undo reads are kept (older runs have none). */
    undo?: string | null;
  } | null;
};

const ACTIVE = ["queued", "running", "failing"];

const RUN_COLUMNS: GridColumn<RestoreRunView>[] = [
  { id: "run", header: "Run", size: 230, sort: (r) => r.label, cell: (r) => <TextLink href={`/restores/${encodeURIComponent(r.label)}`}>{r.label}</TextLink> },
  { id: "server", header: "Server", size: 96, fixed: true, sort: (r) => r.server, cell: (r) => r.server },
  {
    id: "accounts",
    header: "Accounts",
    size: 340,
    sort: (r) => r.plan?.accounts[0]?.emailAtPoint,
    cell: (r) => {
      const text = r.plan?.accounts.map((a) => `${a.emailAtPoint} → ${a.target.email}`).join(", ") ?? "";
      return <span title={text}>{text}</span>;
    },
  },
  {
    id: "status",
    header: "Status",
    size: 150,
    sort: (r) => r.status,
    wrap: true,
    cell: (r) => (ACTIVE.includes(r.status) ? <ProgressBar done={r.accountsDone} total={r.accountsTotal} label="Accounts restored" /> : <SessionStatus status={r.status} />),
  },
  {
    id: "requested",
    header: "Requested",
    size: 200,
    sort: (r) => r.createdAt,
    wrap: true,
    className: "text-slate-500",
    cell: (r) => (
      <>
        <When iso={r.createdAt} className="whitespace-nowrap" />
        <div className="truncate text-xs" title={r.requestedBy}>
          by {r.requestedBy}
        </div>
      </>
    ),
  },
];

export function useRestoreRun(label: string) {
  return useQuery({
    queryKey: ["restores", label],
    queryFn: () => getJson<RestoreRunView>(`/api/restores/${encodeURIComponent(label)}`),
    refetchInterval: (q) => (ACTIVE.includes(q.state.data?.status ?? "queued") ? 1_000 : false),
  });
}

/** A restored account by its email: a link to its page, found through the account search. */
function AccountLink({ email }: { email: string }) {
  const hit = useQuery({
    queryKey: ["accounts", "exact", email],
    queryFn: () => getJson<AccountPage>(`/api/accounts?q=${encodeURIComponent(email)}&pageSize=5`).then((p) => p.items.find((a) => a.email === email && !a.deletedAt) ?? null),
  });
  return hit.data ? <TextLink href={`/accounts/${hit.data.id}`}>{email}</TextLink> : <span>{email}</span>;
}

function AbortRun({ run }: { run: RestoreRunView }) {
  const client = useQueryClient();
  const abort = useMutation({
    mutationFn: () => sendJson("DELETE", `/api/jobs/${encodeURIComponent(run.jobId ?? `restore-${run.id}`)}?server=${encodeURIComponent(run.server)}`),
    onSettled: () => client.invalidateQueries({ queryKey: ["restores"] }),
  });
  return (
    <span className="flex flex-col items-end gap-1">
      <ConfirmButton
        label={run.abortRequested ? "Aborting…" : "Abort"}
        question={`Abort ${run.label}? The account being restored finishes; the rest are not started.`}
        cancelLabel="Keep it running"
        confirmLabel="Abort the restore"
        onConfirm={() => abort.mutate()}
        busy={abort.isPending || run.abortRequested}
      />
      <ErrorText error={abort.error} />
    </span>
  );
}

/**
 * "Undo this restore" (admins, finished in-place runs): the plan first, every mailbox back to just
 * before this restore reloaded it; confirmed, the undo runs as a restore of its own.
 */
function UndoRun({ run }: { run: RestoreRunView }) {
  const router = useRouter();
  const [plan, setPlan] = useState<RestorePlan | null>(null);
  const path = `/api/restores/${encodeURIComponent(run.label)}/undo`;
  const preview = useMutation({ mutationFn: () => sendJson<{ plan: RestorePlan }>("POST", path, { dryRun: true }), onSuccess: (r) => setPlan(r.plan) });
  const start = useMutation({
    mutationFn: () => sendJson<{ label: string }>("POST", path, {}),
    onSuccess: (undo) => router.push(`/restores/${encodeURIComponent(undo.label)}`),
  });
  if (!plan) {
    return (
      <span className="flex flex-col items-end gap-1">
        <button onClick={() => preview.mutate()} disabled={preview.isPending} className={buttonClass()}>
          {preview.isPending ? "Planning…" : "Undo this restore…"}
        </button>
        <ErrorText error={preview.error} />
      </span>
    );
  }
  return (
    <div role="dialog" aria-label="Undo this restore" className="fixed inset-0 z-20 flex items-start justify-center overflow-y-auto bg-slate-900/30 p-8">
      <div className="w-full max-w-2xl rounded-lg bg-white p-5 shadow-xl">
        <h2 className="mb-2 text-lg font-semibold">Undo {run.label}?</h2>
        <p className="mb-3 text-sm text-slate-700">
          {plan.accounts.length === 1 ? plan.accounts[0]!.target.email : `${plan.accounts.length} mailboxes`} go back, in place, to the state just before this restore
          reloaded {plan.accounts.length === 1 ? "it" : "them"}. The undo is a restore of its own, and can be undone in turn.
        </p>
        <PlanPreview plan={plan} />
        <div className="mt-4 flex items-center justify-end gap-2">
          <ErrorText error={start.error} />
          <button onClick={() => setPlan(null)} className={buttonClass()}>
            Cancel
          </button>
          <button onClick={() => start.mutate()} disabled={start.isPending} className={buttonClass("danger")}>
            {start.isPending ? "Starting…" : "Undo the restore"}
          </button>
        </div>
      </div>
    </div>
  );
}

/** One line in the caller's terms: whose mail, into which account, as of when. */
function RunSentence({ plan, status }: { plan: NonNullable<RestoreRunDetail["plan"]>; status: string }) {
  const accounts = plan.accounts;
  if (accounts.length === 0) return null;
  const verb = status === "completed" ? "Restored" : ACTIVE.includes(status) ? "Restoring" : "Asked to restore";
  const what =
    accounts.length === 1 ? (
      <>
        {accounts[0]!.emailAtPoint} <FormerNames accountId={accounts[0]!.accountId} shown={accounts[0]!.emailAtPoint} inSentence /> into {accounts[0]!.target.email}
      </>
    ) : (
      <>{accounts.length} accounts</>
    );
  return (
    <p aria-label="What this restore does" className="mb-4 rounded-lg border border-slate-200 bg-white px-4 py-3 text-sm text-slate-800 shadow-sm">
      {verb} {what}, as of {pointPhrase(plan.point)}.
    </p>
  );
}

/** A finished run that reloaded at least one mailbox in place. */
function undoable(run: RestoreRunView): boolean {
  return ["completed", "partial"].includes(run.status) && Boolean(run.plan?.accounts.some((a) => a.target.mode === "in-place")) && Boolean(run.result?.restored.length);
}

export function RestoreRunDetail({ label }: { label: string }) {
  const query = useRestoreRun(label);
  const isAdmin = useIsAdmin();
  if (query.isPending) return <Loading rows={8} />;
  if (query.isError) return <ErrorState error={query.error} retry={() => query.refetch()} />;
  const run = query.data;
  const active = ACTIVE.includes(run.status);
  return (
    <>
      <PageHeader
        title={run.label}
        subtitle={
          <span className="flex flex-wrap items-center gap-2">
            <SessionStatus status={run.status} />
            <span>
              on <TextLink href={`/servers/${run.server}`}>{run.server}</TextLink>, requested by {run.requestedBy || "?"} at <When iso={run.createdAt} />
            </span>
          </span>
        }
        actions={active && isAdmin ? <AbortRun run={run} /> : isAdmin && undoable(run) ? <UndoRun run={run} /> : undefined}
      />
      {run.plan && <RunSentence plan={run.plan} status={run.status} />}
      {active && (
        <Card className="mb-4">
          <p className="mb-2 text-sm text-slate-600">{run.currentAccount ? `Restoring ${run.currentAccount}` : run.status === "queued" ? "Waiting for a worker" : "Preparing"}</p>
          <ProgressBar done={run.accountsDone} total={run.accountsTotal} label="Accounts restored" />
        </Card>
      )}
      {run.error && (
        <div role="alert" className="mb-4 rounded-lg border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800">
          {run.error}
        </div>
      )}
      <div className="grid gap-4 xl:grid-cols-2">
        <Card title="Outcome">
          <dl>
            <Field label="Accounts">{run.result?.summary ?? `${run.accountsDone} of ${run.accountsTotal} restored`}</Field>
            <Field label="Started"><When iso={run.startedAt} /></Field>
            <Field label="Ended"><When iso={run.endedAt} /></Field>
            {run.durationMs !== null && <Field label="Duration">{formatDuration(run.durationMs)}</Field>}
            {run.result?.fullBackup && <Field label="Full backup after">{run.result.fullBackup}</Field>}
            {run.undoOf && (
              <Field label="Undoes">
                <TextLink href={`/restores/${encodeURIComponent(run.undoOf)}`}>{run.undoOf}</TextLink>
              </Field>
            )}
            {run.result?.undo && <Field label="Undo">{run.result.undo}</Field>}
          </dl>
          {run.result && run.result.restored.length > 0 && (
            <ul aria-label="Restored accounts" className="mt-3 space-y-1 text-sm">
              {run.result.restored.map((r) => (
                <li key={r.target} className="rounded-md bg-emerald-50 px-3 py-2 text-emerald-900">
                  <AccountLink email={r.target} />: {r.snapshotItems} items from the snapshot, {r.replayed} changes replayed
                  {r.skipped ? `, ${r.skipped} skipped` : ""}
                  {r.gaps.length ? `, gaps ${r.gaps.map((g) => `${g.from}–${g.to}`).join(", ")}` : ""}
                </li>
              ))}
            </ul>
          )}
          {run.result?.notRestored && run.result.notRestored.length > 0 && (
            <ul aria-label="Accounts not restored" className="mt-3 space-y-1 text-sm">
              {run.result.notRestored.map((n) => (
                <li key={n.accountId} className="rounded-md bg-amber-50 px-3 py-2 text-amber-900">
                  <TextLink href={`/accounts/${n.accountId}`}>{n.requested}</TextLink>: not restored, {n.reason}.{" "}
                  {n.action === "maintenance" ? "Its mailbox was broken: the account is in maintenance until it is restored." : "Its mailbox was kept as it was."}
                </li>
              ))}
            </ul>
          )}
          {run.result && run.result.failures.length > 0 && (
            <ul className="mt-3 list-disc pl-5 text-sm text-red-700">
              {run.result.failures.map((f) => (
                <li key={f}>{f}</li>
              ))}
            </ul>
          )}
          {run.jobId && (
            <p className="mt-3 text-sm">
              <TextLink href={`/jobs/${encodeURIComponent(run.jobId)}?server=${encodeURIComponent(run.server)}`}>Job {run.jobId}</TextLink>
            </p>
          )}
        </Card>
        <Card title="Plan">
          {run.plan ? <PlanPreview plan={run.plan} /> : <p className="text-sm text-slate-500">No plan was stored with this run.</p>}
        </Card>
      </div>
    </>
  );
}

export function RestoreRunsList() {
  const runs = useQuery({
    queryKey: ["restores"],
    queryFn: () => getJson<{ restores: RestoreRunView[] }>("/api/restores").then((r) => r.restores),
    refetchInterval: (q) => (q.state.data?.some((r) => ACTIVE.includes(r.status)) ? 1_000 : 10_000),
  });
  return (
    <>
      <PageHeader title="Restore runs" subtitle="Every restore, its plan and what came of it." actions={<Link href="/restore" className={buttonClass("primary")}>New restore</Link>} />
      {runs.isPending ? (
        <Loading rows={5} />
      ) : runs.isError ? (
        <ErrorState error={runs.error} retry={() => runs.refetch()} />
      ) : runs.data.length === 0 ? (
        <EmptyState title="No restores yet">Start one from an account, a session, the redo browser or the Restore page.</EmptyState>
      ) : (
        <DataGrid label="Restore runs" columns={RUN_COLUMNS} rows={runs.data} rowKey={(r) => r.label} />
      )}
    </>
  );
}
