"use client";

import Link from "next/link";
import type { ServerFacts, SessionPoint } from "@/server/health/dashboard-facts";
import { formatDate } from "./ui";

function age(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 2 * 86_400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${Math.round(seconds / 86_400)} days`;
}

/** The newest recoverable point, the next backup and the red flags of a server. */
export function RiskLines({ facts }: { facts: ServerFacts }) {
  const risk = facts.risk;
  if (!risk) return facts.riskError ? <p className="text-red-700">Risks: {facts.riskError}</p> : null;
  return (
    <>
      {risk.flags.length > 0 && (
        <ul aria-label={`Red flags of ${facts.server}`} className="mb-1 space-y-1">
          {risk.flags.map((f) => (
            <li key={f.code} className="rounded-md bg-red-50 px-2 py-1 text-sm font-medium text-red-800 ring-1 ring-red-600/20">
              {f.message}
            </li>
          ))}
        </ul>
      )}
      <p className="text-slate-600">
        Newest recoverable point:{" "}
        {risk.newestRecoverable ? (
          <span title={formatDate(risk.newestRecoverable.at)}>
            {age(risk.newestRecoverable.ageSeconds)} ago <span className="text-slate-500">({risk.newestRecoverable.from})</span>
          </span>
        ) : (
          <span className="text-red-700">none</span>
        )}
      </p>
      {risk.rpo && (
        <p className="text-slate-600">
          RPO if the machine were lost now:{" "}
          <span className={risk.flags.some((f) => f.code === "rpo_high") ? "font-medium text-red-700" : undefined}>{age(risk.rpo.seconds)}</span>{" "}
          <span className="text-slate-500">
            ({risk.rpo.target}
            {risk.rpo.offMachine ? "" : "; every target is on this machine: losing it is not covered"})
          </span>
        </p>
      )}
      <p className="text-slate-600">
        Last restore drill:{" "}
        {risk.lastDrill ? (
          <Link href={`/drills/${encodeURIComponent(risk.lastDrill.label)}`} title={risk.lastDrill.summary} className="hover:underline">
            <span className={risk.lastDrill.status === "passed" ? "text-emerald-700" : "font-medium text-red-700"}>{risk.lastDrill.status}</span>{" "}
            {age(Math.max(0, Math.round((Date.now() - Date.parse(risk.lastDrill.endedAt)) / 1000)))} ago
            {risk.lastDrill.rtoSecondsPerMib !== null && <span className="text-slate-500"> (RTO {risk.lastDrill.rtoSecondsPerMib.toFixed(2)} s/MiB)</span>}
          </Link>
        ) : (
          <span className="text-slate-500">none yet</span>
        )}
      </p>
      <p className="text-slate-600">
        Next backup:{" "}
        {risk.nextBackup ? (
          <span title={formatDate(risk.nextBackup.at)}>{risk.nextBackup.what}</span>
        ) : (
          <Link href="/schedules" className="text-red-700 hover:underline">
            none scheduled
          </Link>
        )}
      </p>
    </>
  );
}

const STATUS_COLOUR: Record<string, string> = {
  completed: "bg-emerald-500",
  failed: "bg-red-500",
  interrupted: "bg-amber-500",
  aborted: "bg-slate-400",
};

/** The last 30 sessions, oldest first, one square each, coloured by outcome. */
export function SessionStrip({ server, history }: { server: string; history: SessionPoint[] }) {
  if (!history.length) return <p className="text-xs text-slate-400">No sessions yet.</p>;
  return (
    <div aria-label={`Last ${history.length} sessions of ${server}`} role="list" className="flex flex-wrap gap-0.5">
      {history.map((s) => (
        <Link
          key={s.label}
          role="listitem"
          href={`/sessions/${encodeURIComponent(s.label)}?server=${encodeURIComponent(server)}`}
          title={`${s.label}: ${s.status}, ended ${formatDate(s.endedAt)}`}
          aria-label={`${s.label} ${s.status}`}
          className={`block h-4 w-3 rounded-sm ${STATUS_COLOUR[s.status] ?? "bg-slate-300"} hover:opacity-70 focus-visible:ring-2 focus-visible:ring-sky-400`}
        />
      ))}
    </div>
  );
}
