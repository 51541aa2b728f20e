"use client";

import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useState } from "react";
import { JOB_STATE_TONE as STATE_TONE, jobHref } from "./job-detail";
import { DataGrid, type GridColumn } from "./data-grid";
import { useJobs, useServers } from "./queries";
import { Badge, EmptyState, ErrorState, formatDuration, inputClass, Loading, PageHeader, TextLink, When } from "./ui";

const FILTERS = ["", "active", "waiting", "delayed", "completed", "failed"];
const FILTER_LABEL: Record<string, string> = { "": "all", active: "running", waiting: "queued", delayed: "delayed", completed: "done", failed: "failed" };
/** Job kinds by domain (server/jobs/definitions.ts): `backup` matches every backup.* job. */
const KINDS: [string, string][] = [["", "every kind"], ["backup", "backups"], ["restore", "restores"], ["drill", "restore drills"], ["schedule", "scheduled entries"], ["server.ping", "pings"], ["redo.archive", "redo archiving"], ["report.send", "report mails"]];

type JobRow = NonNullable<ReturnType<typeof useJobs>["data"]>[number];

const JOB_COLUMNS: GridColumn<JobRow>[] = [
  {
    id: "job",
    header: "Job",
    size: 260,
    sort: (job) => job.name,
    cell: (job) => (
      <>
        <TextLink href={jobHref(job)}>
          <span className="font-mono text-xs">{job.name}</span>
        </TextLink>
        <span className="ml-2 text-xs text-slate-400" title={job.id}>
          #{job.id}
        </span>
      </>
    ),
  },
  { id: "server", header: "Server", size: 96, fixed: true, sort: (job) => job.server, cell: (job) => job.server },
  { id: "state", header: "State", size: 110, sort: (job) => job.state, wrap: true, cell: (job) => <Badge tone={STATE_TONE[job.state] ?? "slate"}>{job.state}</Badge> },
  { id: "submitted", header: "Submitted", size: 190, sort: (job) => job.createdAt, className: "whitespace-nowrap text-slate-500", cell: (job) => <When iso={job.createdAt} /> },
  {
    id: "outcome",
    header: "Outcome",
    size: 320,
    sort: (job) => (job.failedReason ? `0${job.failedReason}` : job.finishedAt ? "1" : "2"),
    className: "text-slate-600",
    cell: (job) => {
      const text = job.failedReason ?? (job.finishedAt ? `done in ${formatDuration(Date.parse(job.finishedAt) - Date.parse(job.startedAt ?? job.createdAt))}` : "—");
      return <span title={text}>{text}</span>;
    },
  },
];

export function JobsList() {
  const [state, setState] = useState("");
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const server = params.get("server") ?? undefined;
  const kind = params.get("kind") ?? "";
  // Held here as well as in the address, so the box changes at once.
  const [showSystem, setShowSystem] = useState(params.get("system") === "1");
  const setParam = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    router.replace(`${pathname}${next.size ? `?${next}` : ""}`);
  };
  const servers = useServers();
  // The redo archiver runs about 8 times a minute per server: hidden unless asked for, or its kind is chosen.
  const jobs = useJobs(state || undefined, server, { name: kind || undefined, hideSystem: !showSystem && !kind });
  return (
    <>
      <PageHeader title={server ? `Jobs of ${server}` : "Jobs"} subtitle="Work queued for and run by each server's workers; refreshed every 2 seconds." />
      <form aria-label="Job filters" className="mb-3 flex flex-wrap items-end gap-3 text-sm" onSubmit={(e) => e.preventDefault()}>
        <label className="flex flex-col gap-1">
          Server
          <select value={server ?? ""} onChange={(e) => setParam("server", e.target.value)} className={inputClass}>
            <option value="">every server</option>
            {(servers.data ?? []).map((s) => (
              <option key={s.name} value={s.name}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
        <label className="flex flex-col gap-1">
          Kind
          <select value={kind} onChange={(e) => setParam("kind", e.target.value)} className={inputClass}>
            {KINDS.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label className="flex items-center gap-2 pb-2">
          <input type="checkbox" checked={showSystem || Boolean(kind)} disabled={Boolean(kind)} onChange={(e) => (setShowSystem(e.target.checked), setParam("system", e.target.checked ? "1" : ""))} />
          Show system jobs (redo archiving, report mails)
        </label>
      </form>
      <div role="tablist" aria-label="Job state" className="mb-4 flex flex-wrap gap-1">
        {FILTERS.map((f) => (
          <button
            key={f || "all"}
            role="tab"
            aria-selected={state === f}
            onClick={() => setState(f)}
            className={`rounded-md px-3 py-1.5 text-sm font-medium ${state === f ? "bg-slate-900 text-white" : "text-slate-600 hover:bg-slate-200"}`}
          >
            {FILTER_LABEL[f]}
          </button>
        ))}
      </div>
      {jobs.isPending ? (
        <Loading rows={5} />
      ) : jobs.isError ? (
        <ErrorState error={jobs.error} retry={() => jobs.refetch()} />
      ) : jobs.data.length === 0 ? (
        <EmptyState title={state ? `No ${state} jobs` : "No jobs yet"}>Jobs appear here when backups, restores or pings are submitted.</EmptyState>
      ) : (
        <DataGrid label="Jobs" columns={JOB_COLUMNS} rows={jobs.data} rowKey={(job) => `${job.server}/${job.id}`} />
      )}
    </>
  );
}
