"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { JobDetail, JobInfo } from "@/server/jobs/get-job";
import { getJson, sendJson } from "./api";
import { ProgressBar } from "./session-badges";
import { Badge, buttonClass, Card, ErrorState, ErrorText, Field, formatDuration, Loading, PageHeader, TextLink, type Tone, When } from "./ui";
import { DataGrid, type GridColumn } from "./data-grid";
import { useIsAdmin } from "./use-me";

export const JOB_STATE_TONE: Record<string, Tone> = { active: "blue", waiting: "slate", "waiting-children": "slate", delayed: "amber", completed: "green", failed: "red" };
const FINISHED = new Set(["completed", "failed"]);

type RelatedJob = JobDetail["related"][number];

const RELATED_COLUMNS: GridColumn<RelatedJob>[] = [
  { id: "job", header: "Job", size: 200, sort: (j) => j.id, cell: (j) => <TextLink href={jobHref(j)}>{j.id}</TextLink> },
  { id: "part", header: "Part", size: 120, sort: (j) => j.index ?? -1, className: "text-slate-600", cell: (j) => (j.role === "child" ? `accounts ${j.index}` : (j.role ?? "")) },
  { id: "state", header: "State", size: 110, sort: (j) => j.state, wrap: true, cell: (j) => <Badge tone={JOB_STATE_TONE[j.state] ?? "slate"}>{j.state}</Badge> },
  { id: "duration", header: "Duration", size: 100, sort: (j) => j.durationMs, className: "tabular-nums", cell: (j) => (j.durationMs === null ? "—" : formatDuration(j.durationMs)) },
  { id: "outcome", header: "Outcome", size: 240, sort: (j) => outcome(j), cell: (j) => <span title={outcome(j)}>{outcome(j)}</span> },
  {
    id: "log",
    header: "Log",
    size: 300,
    wrap: true,
    className: "text-xs text-slate-600",
    cell: (j) =>
      j.logs.length > 0 && (
        <details>
          <summary className="cursor-pointer truncate">{j.logs.at(-1)}</summary>
          <pre className="mt-1 whitespace-pre-wrap break-all">{j.logs.join("\n")}</pre>
        </details>
      ),
  },
];

export function jobHref(job: { id: string; server: string }): string {
  return `/jobs/${encodeURIComponent(job.id)}?server=${encodeURIComponent(job.server)}`;
}

function outcome(job: JobInfo): string {
  if (job.failedReason) return job.failedReason;
  if (!FINISHED.has(job.state)) return "—";
  const r = job.result as Record<string, unknown> | unknown[] | null;
  if (Array.isArray(r)) return `${r.length} account(s)`;
  if (r && typeof r === "object") return Object.entries(r).filter(([, v]) => typeof v !== "object").map(([k, v]) => `${k}: ${String(v)}`).join(", ") || "done";
  return r === null ? "done" : String(r);
}

function useJob(server: string, id: string) {
  return useQuery({
    queryKey: ["jobs", server, id],
    queryFn: () => getJson<JobDetail>(`/api/jobs/${encodeURIComponent(id)}?server=${encodeURIComponent(server)}`),
    refetchInterval: (q) => {
      const d = q.state.data;
      const running = d && (d.related.some((j) => !FINISHED.has(j.state)) || !FINISHED.has(d.job.state));
      return running || !d ? 1_000 : false;
    },
  });
}

function AbortJob({ server, id }: { server: string; id: string }) {
  const client = useQueryClient();
  const abort = useMutation({ mutationFn: () => sendJson("DELETE", jobHref({ id, server }).replace("/jobs/", "/api/jobs/")), onSettled: () => client.invalidateQueries({ queryKey: ["jobs"] }) });
  return (
    <span className="flex flex-col items-end gap-1">
      <button className={buttonClass("danger")} disabled={abort.isPending || abort.isSuccess} onClick={() => abort.mutate()}>
        {abort.isSuccess ? "Aborting…" : "Abort"}
      </button>
      <ErrorText error={abort.error} />
    </span>
  );
}

export function JobDetailView({ server, id }: { server: string; id: string }) {
  const query = useJob(server, id);
  const isAdmin = useIsAdmin();
  if (query.isPending) return <Loading rows={8} />;
  if (query.isError) return <ErrorState error={query.error} retry={() => query.refetch()} />;
  const { job, related, childrenTotal, backupSession: session, restoreRun: run, warnings } = query.data;
  const progress = session ?? run;
  const active = progress ? ["queued", "running", "failing"].includes(progress.status) : !FINISHED.has(job.state);
  const abortable = isAdmin && active && (session || run);
  return (
    <>
      <PageHeader
        title={job.name}
        subtitle={
          <span className="flex flex-wrap items-center gap-2">
            <Badge tone={JOB_STATE_TONE[job.state] ?? "slate"}>{job.state}</Badge>
            <span className="font-mono text-xs">#{job.id}</span>
            <span>
              on <TextLink href={`/servers/${job.server}`}>{job.server}</TextLink>
            </span>
            {job.source === "history" && <Badge tone="amber">from history: Redis no longer holds it</Badge>}
          </span>
        }
        actions={abortable ? <AbortJob server={job.server} id={job.id} /> : undefined}
      />
      {warnings.map((w) => (
        <p key={w} role="alert" className="mb-3 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900">
          {w}
        </p>
      ))}
      {progress && (
        <Card className="mb-4" title={session ? <>Backup session <TextLink href={`/sessions/${encodeURIComponent(session.label)}?server=${encodeURIComponent(session.server)}`}>{session.label}</TextLink></> : <>Restore run <TextLink href={`/restores/${encodeURIComponent(run!.label)}`}>{run!.label}</TextLink></>}>
          <p className="mb-2 text-sm text-slate-600">
            {progress.status}
            {progress.currentAccount ? `: ${session ? "backing up" : "restoring"} ${progress.currentAccount}` : ""}
          </p>
          <ProgressBar done={progress.accountsDone} total={progress.accountsTotal} label={session ? "Accounts backed up" : "Accounts restored"} />
        </Card>
      )}
      <div className="grid gap-4 lg:grid-cols-2">
        <Card title="Job">
          <dl>
            <Field label="Submitted"><When iso={job.createdAt} /></Field>
            <Field label="Started"><When iso={job.startedAt} /></Field>
            <Field label="Finished"><When iso={job.finishedAt} /></Field>
            <Field label="Duration">{job.durationMs === null ? "—" : formatDuration(job.durationMs)}</Field>
            {job.attemptsMade !== null && <Field label="Attempts">{job.attemptsMade}</Field>}
            <Field label="Outcome">{outcome(job)}</Field>
          </dl>
        </Card>
        <Card title={`Log (${job.logs.length})`}>
          {job.logs.length === 0 ? (
            <p className="text-sm text-slate-500">No log lines{FINISHED.has(job.state) ? "." : " yet."}</p>
          ) : (
            <pre aria-label="Job log" className="max-h-80 overflow-auto rounded bg-slate-900 p-3 text-xs leading-relaxed whitespace-pre-wrap text-slate-100">
              {job.logs.join("\n")}
            </pre>
          )}
        </Card>
      </div>
      {related.length > 1 && (
        <div className="mt-4">
          <h2 className="mb-2 text-sm font-semibold text-slate-700">
            Jobs of this {session ? "backup" : "restore"} ({related.length}
            {childrenTotal > related.length - 2 ? ` of ${childrenTotal + 2}` : ""})
          </h2>
          <DataGrid label="Related jobs" columns={RELATED_COLUMNS} rows={related} rowKey={(j) => j.id} rowClassName={(j) => (j.id === job.id ? "bg-sky-50" : "")} />
        </div>
      )}
    </>
  );
}
