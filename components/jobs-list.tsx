"use client";

import { useState } from "react";
import { useJobs } from "./queries";
import { Badge, EmptyState, ErrorState, formatDate, Loading, PageHeader, type Tone } from "./ui";

const STATE_TONE: Record<string, Tone> = { active: "blue", waiting: "slate", delayed: "amber", completed: "green", failed: "red" };
const FILTERS = ["", "active", "waiting", "delayed", "completed", "failed"];

export function JobsList() {
  const [state, setState] = useState("");
  const jobs = useJobs(state || undefined);
  return (
    <>
      <PageHeader title="Jobs" subtitle="Work queued for and run by each server's workers; refreshed every 2 seconds." />
      <div role="tablist" aria-label="Job state" className="mb-4 flex flex-wrap gap-1">
        {FILTERS.map((f) => (
          <button
            key={f || "all"}
            role="tab"
            aria-selected={state === f}
            onClick={() => setState(f)}
            className={`rounded-md px-3 py-1.5 text-sm font-medium ${state === f ? "bg-slate-900 text-white" : "text-slate-600 hover:bg-slate-200"}`}
          >
            {f || "all"}
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
                    <span className="font-mono text-xs">{job.name}</span>
                    <span className="ml-2 text-xs text-slate-400">#{job.id}</span>
                  </td>
                  <td className="px-4 py-2">{job.server}</td>
                  <td className="px-4 py-2">
                    <Badge tone={STATE_TONE[job.state] ?? "slate"}>{job.state}</Badge>
                  </td>
                  <td className="px-4 py-2 whitespace-nowrap text-slate-500">{formatDate(job.createdAt)}</td>
                  <td className="max-w-md truncate px-4 py-2 text-slate-600">
                    {job.failedReason ?? (job.finishedAt ? `done in ${Date.parse(job.finishedAt) - Date.parse(job.startedAt ?? job.createdAt)} ms` : "—")}
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
