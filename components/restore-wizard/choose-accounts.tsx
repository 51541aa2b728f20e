"use client";

import { useState } from "react";
import { useAccounts } from "../queries";
import { Badge, buttonClass, ErrorState, formatDate, inputClass, Loading, StatusBadge } from "../ui";
import { useDebounced } from "../use-debounced";
import type { ChosenAccount } from "./state";

/**
 * Step 1: find accounts by any name they ever had (deleted ones included). Helpdesk staff choose
 * one; admins may choose several on the same server.
 */
export function ChooseAccounts({ chosen, onChange, single }: { chosen: ChosenAccount[]; onChange: (next: ChosenAccount[]) => void; single: boolean }) {
  const [text, setText] = useState("");
  const q = useDebounced(text.trim(), 250);
  const hits = useAccounts({ q, server: "", status: "", page: 1, pageSize: 8 });
  const server = chosen[0]?.server;
  const add = (a: ChosenAccount) => onChange(single ? [a] : [...chosen.filter((c) => c.id !== a.id), a]);
  return (
    <div className="space-y-3">
      {chosen.length > 0 && (
        <ul aria-label="Chosen accounts" className="flex flex-wrap gap-2">
          {chosen.map((a) => (
            <li key={a.id} className="inline-flex items-center gap-2 rounded-full bg-sky-50 py-1 pr-1 pl-3 text-sm text-sky-900 ring-1 ring-sky-200">
              {a.email}
              {a.matchedFormerName && <span className="text-xs text-sky-700">formerly {a.matchedFormerName}</span>}
              {a.deletedAt && <Badge tone="red">deleted</Badge>}
              <button
                onClick={() => onChange(chosen.filter((c) => c.id !== a.id))}
                aria-label={`Remove ${a.email}`}
                className="rounded-full px-2 text-sky-700 hover:bg-sky-100 focus-visible:ring-2 focus-visible:ring-sky-400 focus-visible:outline-none"
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <label className="block">
        <span className="text-sm text-slate-600">{single ? "Find the account" : "Find accounts"} by its current or a former email address</span>
        <input type="search" aria-label="Find an account to restore" value={text} onChange={(e) => setText(e.target.value)} placeholder="e.g. carol.smith@example.com" className={`${inputClass} mt-1 w-full`} />
      </label>
      {q.length > 0 &&
        (hits.isPending ? (
          <Loading rows={3} />
        ) : hits.isError ? (
          <ErrorState error={hits.error} retry={() => hits.refetch()} />
        ) : hits.data.items.length === 0 ? (
          <p className="text-sm text-slate-500">No account has ever been called “{q}”.</p>
        ) : (
          <ul aria-label="Matching accounts" className="divide-y divide-slate-100 rounded-md border border-slate-200">
            {hits.data.items.map((h) => {
              const otherServer = !single && server !== undefined && h.server !== server;
              const picked = chosen.some((c) => c.id === h.id);
              return (
                <li key={h.id} className="flex flex-wrap items-center gap-2 px-3 py-2 text-sm">
                  <span className="font-medium">{h.email}</span>
                  {h.matchedFormerName && <Badge tone="violet">formerly {h.matchedFormerName}</Badge>}
                  {h.deletedAt ? <Badge tone="red">deleted {formatDate(h.deletedAt).slice(0, 10)}</Badge> : <StatusBadge status={h.status} />}
                  <span className="text-xs text-slate-500">on {h.server}</span>
                  <button
                    onClick={() => add({ id: h.id, email: h.email, server: h.server, deletedAt: h.deletedAt, matchedFormerName: h.matchedFormerName })}
                    disabled={picked || otherServer}
                    title={otherServer ? `one restore covers one server (${server})` : undefined}
                    aria-label={`Choose ${h.email}`}
                    className={`${buttonClass(picked ? "secondary" : "primary")} ml-auto`}
                  >
                    {picked ? "Chosen" : "Choose"}
                  </button>
                </li>
              );
            })}
          </ul>
        ))}
    </div>
  );
}
