"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import type { DeletionTimeline } from "@/server/redo/deletion-timeline";
import { getJson } from "./api";
import { restoreBeforeHref } from "./deletion-links";
import { Card, ErrorState, Loading, When } from "./ui";

/** The account's recent deletions, where a person looks first, each a way into the wizard at the point just before it. */
export function RecentDeletions({ accountId, server, email }: { accountId: string; server: string; email: string }) {
  const deletions = useQuery({
    queryKey: ["deletions", server, accountId, "recent"],
    queryFn: () => getJson<DeletionTimeline>(`/api/servers/${encodeURIComponent(server)}/deletions?${new URLSearchParams({ account: accountId, limit: "5" })}`),
  });
  return (
    <Card title="Recent deletions" className="lg:col-span-2">
      {deletions.isPending ? (
        <Loading rows={2} />
      ) : deletions.isError ? (
        <ErrorState error={deletions.error} retry={() => deletions.refetch()} />
      ) : deletions.data.entries.length === 0 ? (
        <p className="text-sm text-slate-500">No deletions of {email} are recorded.</p>
      ) : (
        <ul aria-label="Recent deletions" className="divide-y divide-slate-100 text-sm">
          {deletions.data.entries.map((d) => (
            <li key={d.seq} className="flex flex-wrap items-center gap-2 py-2">
              <span className="text-xs whitespace-nowrap text-slate-500"><When iso={d.at} /></span>
              <span className="min-w-0 flex-1">{d.what}</span>
              {d.restorable.ok ? (
                <span className="flex gap-3">
                  {/* The mail as it was a millisecond before the deletion: find the message, restore only it. */}
                  <Link href={`/accounts/${accountId}?at=${encodeURIComponent(new Date(Date.parse(d.at) - 1).toISOString())}#messages`} className="text-xs font-medium text-sky-700 hover:underline">
                    Find it in the mail just before
                  </Link>
                  <Link href={restoreBeforeHref(d)} className="text-xs font-medium text-sky-700 hover:underline">
                    Restore to just before this
                  </Link>
                </span>
              ) : (
                <span className="text-xs text-amber-800">Cannot be restored: {d.restorable.reason}</span>
              )}
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
