"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import type { MessageList } from "@/server/explore/list-messages";
import { getJson } from "./api";
import { Badge, buttonClass, EmptyState, ErrorState, formatBytes, formatDate, inputClass, Loading } from "./ui";
import { useDebounced } from "./use-debounced";

const PAGE_SIZE = 50;

export function useMessages(accountId: string, folder: string, q: string, page: number) {
  const params = new URLSearchParams({ page: String(page), pageSize: String(PAGE_SIZE), ...(folder ? { folder } : {}), ...(q ? { q } : {}) });
  return useQuery({
    queryKey: ["messages", accountId, params.toString()],
    queryFn: () => getJson<MessageList>(`/api/accounts/${accountId}/messages?${params}`),
    placeholderData: keepPreviousData,
  });
}

export interface Selection {
  items: Set<number>;
  toggle(id: number): void;
}

/**
 * A mailbox's messages by folder, searchable, a page at a time. With a selection, each message
 * has a checkbox (copy-back uses it).
 */
export function MailboxBrowser({ accountId, selection }: { accountId: string; selection?: Selection }) {
  const [folder, setFolder] = useState("");
  const [text, setText] = useState("");
  const [page, setPage] = useState(1);
  const q = useDebounced(text.trim(), 250);
  const list = useMessages(accountId, folder, q, page);
  if (list.isPending) return <Loading rows={5} />;
  if (list.isError) return <ErrorState error={list.error} retry={() => list.refetch()} />;
  const { folders, messages, total } = list.data;
  return (
    <div className="space-y-3">
      <div className="flex flex-wrap items-end gap-2">
        <label className="flex flex-col gap-1 text-sm">
          Folder
          <select
            aria-label="Folder"
            value={folder}
            onChange={(e) => {
              setFolder(e.target.value);
              setPage(1);
            }}
            className={inputClass}
          >
            <option value="">All folders</option>
            {folders.map((f) => (
              <option key={f.id} value={f.path}>
                {f.path} ({f.messages})
              </option>
            ))}
          </select>
        </label>
        <label className="flex flex-col gap-1 text-sm">
          Search
          <input
            type="search"
            aria-label="Search messages"
            value={text}
            onChange={(e) => {
              setText(e.target.value);
              setPage(1);
            }}
            placeholder="subject or sender"
            className={inputClass}
          />
        </label>
        <span className="ml-auto text-sm text-slate-500">{total} message(s)</span>
      </div>
      {messages.length === 0 ? (
        <EmptyState title={q ? `No message matches “${q}”` : "No messages here"} />
      ) : (
        <div className="overflow-x-auto">
          <table aria-label="Messages" className="min-w-full text-sm">
            <thead className="text-left text-xs uppercase tracking-wide text-slate-500">
              <tr>
                {selection && (
                  <th className="px-2 py-2">
                    <span className="sr-only">Select</span>
                  </th>
                )}
                <th className="px-3 py-2 font-medium">Subject</th>
                <th className="px-3 py-2 font-medium">From</th>
                <th className="px-3 py-2 font-medium">Folder</th>
                <th className="px-3 py-2 font-medium">Date</th>
                <th className="px-3 py-2 text-right font-medium">Size</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {messages.map((m) => (
                <tr key={m.id} className={m.read ? "" : "font-semibold"}>
                  {selection && (
                    <td className="px-2 py-1.5">
                      <input type="checkbox" aria-label={`Select ${m.subject ?? `message ${m.id}`}`} checked={selection.items.has(m.id)} onChange={() => selection.toggle(m.id)} />
                    </td>
                  )}
                  <td className="max-w-md truncate px-3 py-1.5">
                    {m.subject || <span className="text-slate-400">(no subject)</span>}
                    {m.flagged && <span className="ml-1 text-amber-600" title="flagged">★</span>}
                    {m.tags.map((t) => (
                      <span key={t} className="ml-1">
                        <Badge tone="violet">{t}</Badge>
                      </span>
                    ))}
                  </td>
                  <td className="max-w-xs truncate px-3 py-1.5 font-normal text-slate-600">{m.from}</td>
                  <td className="px-3 py-1.5 font-normal text-slate-600">{m.folder}</td>
                  <td className="px-3 py-1.5 font-normal whitespace-nowrap text-slate-500">{formatDate(m.date)}</td>
                  <td className="px-3 py-1.5 text-right font-normal tabular-nums">{formatBytes(m.size)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {total > PAGE_SIZE && (
        <div className="flex items-center justify-end gap-2 text-sm">
          <button className={buttonClass()} disabled={page <= 1} onClick={() => setPage(page - 1)}>
            Previous
          </button>
          <span>
            page {page} of {Math.ceil(total / PAGE_SIZE)}
          </span>
          <button className={buttonClass()} disabled={page * PAGE_SIZE >= total} onClick={() => setPage(page + 1)}>
            Next
          </button>
        </div>
      )}
    </div>
  );
}
