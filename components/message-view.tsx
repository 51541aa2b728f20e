"use client";

import { useQuery } from "@tanstack/react-query";
import type { MessageDetail } from "@/server/explore/read-message";
import type { ViewPreparing } from "@/server/explore/views";
import { getJson } from "./api";
import { pointParams, type MailPoint } from "./mailbox-browser";
import { Badge, buttonClass, ErrorState, formatBytes, Loading, When } from "./ui";

/**
 * One message, opened: its headers, its body and its attachments. HTML is shown in a sandboxed
 * frame (no script, no same-origin) whose document the server has sanitised and given a CSP
 * that loads nothing remote; plain text is shown as text. Opening a message is audited.
 */
export function MessageView({ accountId, itemId, point, onClose }: { accountId: string; itemId: number; point?: MailPoint; onClose: () => void }) {
  const query = new URLSearchParams(pointParams(point)).toString();
  const suffix = query ? `?${query}` : "";
  const base = `/api/accounts/${accountId}/messages/${itemId}`;
  const message = useQuery({
    queryKey: ["message", accountId, itemId, query],
    queryFn: () => getJson<MessageDetail | ViewPreparing>(`${base}${suffix}`),
    refetchInterval: (q) => (q.state.data && "state" in q.state.data ? 1_000 : false),
    // Each fetch is an audited read: once per opening, not on every focus.
    staleTime: Infinity,
    refetchOnWindowFocus: false,
  });
  return (
    <section aria-label="Message" className="rounded-lg border border-slate-200 bg-white">
      <div className="flex items-start justify-between gap-3 border-b border-slate-100 px-4 py-3">
        <h3 className="min-w-0 text-base font-semibold break-words text-slate-900">
          {message.data && !("state" in message.data) ? message.data.subject || "(no subject)" : "Message"}
        </h3>
        <span className="flex shrink-0 gap-2">
          <a className={buttonClass()} href={`${base}/raw${suffix}`} download>
            Download .eml
          </a>
          <button className={buttonClass()} onClick={onClose} aria-label="Close message">
            Close
          </button>
        </span>
      </div>
      <div className="px-4 py-3">
        {message.isPending || (message.data && "state" in message.data) ? (
          <Loading rows={4} />
        ) : message.isError ? (
          <ErrorState error={message.error} retry={() => message.refetch()} />
        ) : (
          <MessageBody message={message.data as MessageDetail} attachmentHref={(n) => `${base}/attachments/${n}${suffix}`} />
        )}
      </div>
    </section>
  );
}

function MessageBody({ message, attachmentHref }: { message: MessageDetail; attachmentHref: (n: number) => string }) {
  return (
    <>
      <dl className="grid grid-cols-[5rem_1fr] gap-x-3 gap-y-1 text-sm">
        <dt className="text-slate-500">From</dt>
        <dd className="break-words">{message.from}</dd>
        <dt className="text-slate-500">To</dt>
        <dd className="break-words">{message.to || "—"}</dd>
        {message.cc && (
          <>
            <dt className="text-slate-500">Cc</dt>
            <dd className="break-words">{message.cc}</dd>
          </>
        )}
        <dt className="text-slate-500">Date</dt>
        <dd>
          <When iso={message.date} />
        </dd>
        <dt className="text-slate-500">Folder</dt>
        <dd>
          {message.folder} · {formatBytes(message.size)}
          {message.flags.map((f) => (
            <span key={f} className="ml-1">
              <Badge>{f}</Badge>
            </span>
          ))}
          {message.tags.map((t) => (
            <span key={t} className="ml-1">
              <Badge tone="violet">{t}</Badge>
            </span>
          ))}
        </dd>
      </dl>
      {message.remoteBlocked > 0 && (
        <p role="note" className="mt-3 rounded-md bg-amber-50 px-3 py-2 text-xs text-amber-900">
          {message.remoteBlocked} remote image(s) or frame(s) were not loaded, and scripts never run: this view fetches nothing from outside.
        </p>
      )}
      <div className="mt-3">
        {message.html ? (
          <iframe title="Message body" sandbox="" srcDoc={message.html} referrerPolicy="no-referrer" className="h-96 w-full rounded-md border border-slate-200 bg-white" />
        ) : (
          <pre className="max-h-96 overflow-auto rounded-md bg-slate-50 p-3 text-sm whitespace-pre-wrap">{message.text || "(no text)"}</pre>
        )}
      </div>
      {message.attachments.length > 0 && (
        <div className="mt-3 text-sm">
          <h4 className="mb-1 font-medium text-slate-700">Attachments</h4>
          <ul className="space-y-1">
            {message.attachments.map((a) => (
              <li key={a.index}>
                <a className="text-sky-700 hover:underline" href={attachmentHref(a.index)} download>
                  {a.filename}
                </a>{" "}
                <span className="text-slate-500">
                  {a.contentType}, {formatBytes(a.size)}
                </span>
              </li>
            ))}
          </ul>
        </div>
      )}
      <details className="mt-3 text-xs text-slate-600">
        <summary className="cursor-pointer">All headers ({message.headers.length})</summary>
        <dl className="mt-2 max-h-64 overflow-auto font-mono">
          {message.headers.map((h, i) => (
            <div key={i} className="break-all">
              <dt className="inline font-semibold">{h.name}:</dt> <dd className="inline">{h.value}</dd>
            </div>
          ))}
        </dl>
      </details>
    </>
  );
}
