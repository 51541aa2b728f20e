"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import type { MessageList } from "@/server/explore/list-messages";
import type { ViewPreparing } from "@/server/explore/views";
import { getJson } from "./api";
import { Badge, buttonClass, EmptyState, ErrorState, formatBytes, inputClass, Loading, When } from "./ui";
import { DataGrid, type GridColumn } from "./data-grid";
import { useDebounced } from "./use-debounced";

const PAGE_SIZE = 50;

/** Where mail is read from: live (neither), a backup session (`label`), or a point in time (`at`, ISO UTC). */
export interface MailPoint {
  label?: string;
  at?: string;
}

export function pointParams(point: MailPoint | undefined): Record<string, string> {
  return { ...(point?.label ? { label: point.label } : {}), ...(point?.at ? { at: point.at } : {}) };
}

export interface MessageFilters {
  folder: string;
  q: string;
  to: string;
  after: string;
  before: string;
}

const NO_FILTERS: MessageFilters = { folder: "", q: "", to: "", after: "", before: "" };

export function useMessages(accountId: string, filters: Partial<MessageFilters>, page: number, point?: MailPoint) {
  const params = new URLSearchParams({
    page: String(page),
    pageSize: String(PAGE_SIZE),
    ...pointParams(point),
    ...Object.fromEntries(Object.entries(filters).filter(([, v]) => v)),
  });
  return useQuery({
    queryKey: ["messages", accountId, params.toString()],
    queryFn: () => getJson<MessageList | ViewPreparing>(`/api/accounts/${accountId}/messages?${params}`),
    placeholderData: keepPreviousData,
    // A backup being read answers `preparing` (202) until a worker has it ready.
    refetchInterval: (query) => (query.state.data && "state" in query.state.data ? 1_000 : false),
  });
}

export interface Selection {
  items: Set<number>;
  toggle(id: number): void;
}

type MessageRow = MessageList["messages"][number];

function messageColumns(selection: Selection | undefined, onOpen: ((id: number) => void) | undefined): GridColumn<MessageRow>[] {
  const subject = (m: MessageRow) => m.subject || <span className="text-slate-400">(no subject)</span>;
  return [
    ...(selection
      ? [
          {
            id: "select",
            header: "",
            srLabel: "Select",
            size: 36,
            wrap: true,
            cell: (m: MessageRow) => <input type="checkbox" aria-label={`Select ${m.subject ?? `message ${m.id}`}`} checked={selection.items.has(m.id)} onChange={() => selection.toggle(m.id)} />,
          },
        ]
      : []),
    {
      id: "subject",
      header: "Subject",
      size: 380,
      sort: (m) => m.subject?.toLowerCase() ?? "",
      cell: (m) => (
        <span title={m.subject ?? ""}>
          {onOpen ? (
            <button className="max-w-full truncate text-left text-sky-700 hover:underline" onClick={() => onOpen(m.id)}>
              {subject(m)}
            </button>
          ) : (
            subject(m)
          )}
          {m.flagged && <span className="ml-1 text-amber-600" title="flagged">★</span>}
          {m.tags.map((t) => (
            <span key={t} className="ml-1">
              <Badge tone="violet">{t}</Badge>
            </span>
          ))}
        </span>
      ),
    },
    { id: "from", header: "From", size: 200, sort: (m) => m.from, className: "font-normal text-slate-600", cell: (m) => <span title={m.from ?? ""}>{m.from}</span> },
    { id: "folder", header: "Folder", size: 140, sort: (m) => m.folder, className: "font-normal text-slate-600", cell: (m) => <span title={m.folder}>{m.folder}</span> },
    { id: "date", header: "Date", size: 190, sort: (m) => m.date, className: "font-normal whitespace-nowrap text-slate-500", cell: (m) => <When iso={m.date} /> },
    { id: "size", header: "Size", size: 80, align: "right", sort: (m) => m.size, className: "font-normal", cell: (m) => formatBytes(m.size) },
  ];
}

/**
 * A mailbox's messages by folder, searchable, a page at a time: live, or inside a backup
 * (`point`). With a selection, each message has a checkbox; with `onOpen`, a subject opens the
 * message. `onFilters` tells the parent the folder and search in use (downloads and restores
 * of "this folder" use it).
 */
export function MailboxBrowser({
  accountId,
  point,
  selection,
  onOpen,
  openedId,
  onFilters,
}: {
  accountId: string;
  point?: MailPoint;
  selection?: Selection;
  onOpen?: (id: number) => void;
  openedId?: number | null;
  onFilters?: (filters: MessageFilters, list: MessageList | null) => void;
}) {
  const [filters, setFilters] = useState<MessageFilters>(NO_FILTERS);
  const [page, setPage] = useState(1);
  const q = useDebounced(filters.q.trim(), 250);
  const to = useDebounced(filters.to.trim(), 400);
  const applied = { folder: filters.folder, q, to, after: filters.after, before: filters.before };
  const list = useMessages(accountId, applied, page, point);
  const set = (change: Partial<MessageFilters>) => {
    const next = { ...filters, ...change };
    setFilters(next);
    setPage(1);
    onFilters?.(next, list.data && !("state" in list.data) ? list.data : null);
  };
  const columns = messageColumns(selection, onOpen);
  if (list.isPending) return <Loading rows={5} />;
  if (list.isError) return <ErrorState error={list.error} retry={() => list.refetch()} />;
  if ("state" in list.data) {
    return (
      <p role="status" aria-busy className="flex items-center gap-2 rounded-md bg-slate-50 px-3 py-4 text-sm text-slate-600">
        <span className="h-3 w-3 animate-spin rounded-full border-2 border-slate-300 border-t-sky-600" aria-hidden />
        Reading the backup {list.data.description}… A worker is loading the folder and message list (no mail is restored).
      </p>
    );
  }
  const { folders, messages, total } = list.data;
  const busy = list.isFetching && list.isPlaceholderData;
  return (
    <div className="space-y-3">
      <div className="flex flex-wrap items-end gap-2">
        <label className="flex flex-col gap-1 text-sm">
          Folder
          <select aria-label="Folder" value={filters.folder} onChange={(e) => set({ folder: e.target.value })} className={inputClass}>
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
          <input type="search" aria-label="Search messages" value={filters.q} onChange={(e) => set({ q: e.target.value })} placeholder="subject or sender" className={inputClass} />
        </label>
        <label className="flex flex-col gap-1 text-sm">
          To
          <input type="search" aria-label="Recipient" value={filters.to} onChange={(e) => set({ to: e.target.value })} placeholder="recipient" className={`${inputClass} w-40`} />
        </label>
        <label className="flex flex-col gap-1 text-sm">
          From date (UTC)
          <input type="date" aria-label="Received from" value={filters.after} onChange={(e) => set({ after: e.target.value })} className={inputClass} />
        </label>
        <label className="flex flex-col gap-1 text-sm">
          Before (UTC)
          <input type="date" aria-label="Received before" value={filters.before} onChange={(e) => set({ before: e.target.value })} className={inputClass} />
        </label>
        <span className="ml-auto text-sm text-slate-500" aria-live="polite">
          {busy ? "Searching…" : `${total} message(s)`}
          {list.data.scanLimited && " (recipients read in the newest 2,000 only)"}
        </span>
      </div>
      {messages.length === 0 ? (
        <EmptyState title={q || to ? `No message matches “${[q, to].filter(Boolean).join(", ")}”` : "No messages here"} />
      ) : (
        <div className={busy ? "opacity-60" : ""}>
          <DataGrid
            label="Messages"
            framed={false}
            columns={columns}
            rows={messages}
            rowKey={(m) => m.id}
            rowClassName={(m) => `${m.read ? "" : "font-semibold"} ${openedId === m.id ? "bg-sky-50" : ""}`}
          />
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
