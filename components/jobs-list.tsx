"use client";

import { useSearchParams } from "next/navigation";
import { useState } from "react";
import { JOB_STATE_TONE as STATE_TONE, jobHref } from "./job-detail";
import { useJobs } from "./queries";
import { Badge, EmptyState, ErrorState, formatDate, formatDuration, Loading, PageHeader, TextLink } from "./ui";

const FILTERS = ["", "active", "waiting", "delayed", "completed", "failed"];
const FILTER_LABEL: Record<string, string> = { "": "all", active: "running", waiting: "queued", delayed: "delayed", completed: "done", failed: "failed" };

export function JobsList() {
  const [state, setState] = useState("");
  const server = useSearchParams().get("server") ?? undefined;
  const jobs = useJobs(state || undefined, server);
  return (
    <>
      <PageHeader title={server ? `Jobs of ${server}` : "Jobs"} subtitle="Work queued for and run by each server's workers; refreshed every 2 seconds." />
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
        <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
          <table className="min-w-full text-sm">
            <thead className="bg-slate-50 text-left text-xs uppercase tracking-wide text-slate-500">
              <tr>
                <th className="px-4 py-2 font-medium">Job</th>
                <th className="px-4 py-2 font-medium">Server</th>
                <th className="px-4 py-2 font-medium">State</th>
                <th className="px-4 py-2 font-medium">Submitted</th>
                <th className="px-4 py-2 font-medium">Outcome</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {jobs.data.map((job) => (
                <tr key={`${job.server}/${job.id}`}>
                  <td className="px-4 py-2">
                    <TextLink href={jobHref(job)}>
                      <span className="font-mono text-xs">{job.name}</span>
                    </TextLink>
                    <span className="ml-2 text-xs text-slate-400">#{job.id}</span>
                  </td>
                  <td className="px-4 py-2">{job.server}</td>
                  <td className="px-4 py-2">
                    <Badge tone={STATE_TONE[job.state] ?? "slate"}>{job.state}</Badge>
                  </td>
                  <td className="px-4 py-2 whitespace-nowrap text-slate-500">{formatDate(job.createdAt)}</td>
                  <td className="max-w-md truncate px-4 py-2 text-slate-600">
                    {job.failedReason ?? (job.finishedAt ? `done in ${formatDuration(Date.parse(job.finishedAt) - Date.parse(job.startedAt ?? job.createdAt))}` : "—")}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
