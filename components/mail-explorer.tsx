"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import type { SessionSummary } from "@/server/backup/query-sessions";
import type { RestoreItemsResult } from "@/server/explore/restore-items";
import { getJson, sendJson } from "./api";
import { MailboxBrowser, pointParams, type MailPoint, type MessageFilters } from "./mailbox-browser";
import { MessageView } from "./message-view";
import { restoreHref } from "./session-actions";
import { useIsAdmin } from "./use-me";
import { buttonClass, ErrorText, formatDate, inputClass, TextLink, When } from "./ui";

const today = () => new Date().toISOString().slice(0, 10);

function pointKey(point: MailPoint): string {
  return point.label ? `session:${point.label}` : point.at ? "at" : "live";
}

/**
 * An account's mail, live or inside a backup: choose a session or a point in time, then browse,
 * search and open messages as they were, download them, and restore the chosen ones into the
 * live account (into a Recovered folder, or back where they were). Nothing is restored until
 * asked; reading a backup prepares a hidden list of its folders and messages on a worker.
 */
export function MailExplorer({ accountId, server, hasMailbox, initial }: { accountId: string; server: string; hasMailbox: boolean; initial?: MailPoint }) {
  const sessions = useQuery({
    queryKey: ["sessions", "account", accountId],
    queryFn: () => getJson<{ sessions: SessionSummary[]; total: number }>(`/api/sessions?account=${accountId}&pageSize=50`),
  });
  const completed = (sessions.data?.sessions ?? []).filter((s) => s.status === "completed");
  const defaultPoint: MailPoint = initial?.label || initial?.at ? initial : hasMailbox ? {} : completed[0] ? { label: completed[0].label } : {};
  const [chosen, setChosen] = useState<MailPoint | null>(null);
  const point = chosen ?? defaultPoint;
  const [atText, setAtText] = useState(initial?.at ? initial.at.slice(0, 16) : "");
  const [choosingTime, setChoosingTime] = useState(Boolean(initial?.at));
  const [opened, setOpened] = useState<number | null>(null);
  const [items, setItems] = useState<Set<number>>(new Set());
  const [filters, setFilters] = useState<MessageFilters | null>(null);
  const backup = Boolean(point.label || point.at);
  const go = (next: MailPoint) => {
    setChosen(next);
    setOpened(null);
    setItems(new Set());
    setFilters(null);
  };
  const noSource = !hasMailbox && !backup;
  // With neither a live mailbox nor a backup, a point in time is the only way in: show its picker.
  const timeMode = choosingTime || (noSource && sessions.isSuccess && completed.length === 0);

  return (
    <div className="space-y-3">
      <div className="flex flex-wrap items-end gap-2">
        <label className="flex flex-col gap-1 text-sm">
          Read mail from
          <select
            aria-label="Read mail from"
            className={inputClass}
            value={timeMode ? "at" : pointKey(point)}
            onChange={(e) => {
              const v = e.target.value;
              if (v === "at") return setChoosingTime(true);
              setChoosingTime(false);
              go(v === "live" ? {} : { label: v.slice("session:".length) });
            }}
          >
            {hasMailbox && <option value="live">The live mailbox</option>}
            {completed.map((s) => (
              <option key={s.label} value={`session:${s.label}`}>
                {s.type === "full" ? "Full" : "Incremental"} backup of {formatDate(s.endedAt ?? s.createdAt)} ({s.label})
              </option>
            ))}
            <option value="at">A point in time…</option>
          </select>
        </label>
        {timeMode && (
          <form
            className="flex items-end gap-2"
            onSubmit={(e) => {
              e.preventDefault();
              if (atText) go({ at: `${atText}:00.000Z` });
            }}
          >
            <label className="flex flex-col gap-1 text-sm">
              Time (UTC)
              <input type="datetime-local" aria-label="Point in time (UTC)" value={atText} onChange={(e) => setAtText(e.target.value)} className={inputClass} required />
            </label>
            <button type="submit" className={buttonClass("primary")}>
              Show the mail then
            </button>
          </form>
        )}
      </div>
      {backup && (
        <p className="text-sm text-slate-600">
          Reading {point.label ? <>the backup {point.label}</> : <>the mailbox as it was at <When iso={point.at} /></>}. Nothing is restored until you choose messages and restore them.
        </p>
      )}
      {noSource ? (
        <p className="text-sm text-slate-600">
          {completed.length
            ? "This account has no live mailbox: choose a backup or a point in time to read its mail."
            : "This account has no live mailbox and no backup holds it: its mail can be read at a point in time only while the redo still holds its whole life, from its creation on."}
        </p>
      ) : (
        <>
          <MailboxBrowser
            key={pointKey(point) + (point.at ?? "")}
            accountId={accountId}
            point={point}
            selection={{ items, toggle: (id) => setItems((s) => toggle(s, id)) }}
            onOpen={setOpened}
            openedId={opened}
            onFilters={setFilters}
          />
          <ItemActions
            accountId={accountId}
            server={server}
            point={point}
            items={items}
            folder={filters?.folder ?? ""}
            backup={backup}
            onRestored={() => setItems(new Set())}
            wholeCopyHref={
              point.label
                ? restoreHref({ label: point.label, type: completed.find((s) => s.label === point.label)?.type ?? "full", account: accountId })
                : point.at
                  ? `/restore?${new URLSearchParams({ account: accountId, time: point.at.slice(0, 19) })}`
                  : null
            }
          />
          {opened !== null && <MessageView accountId={accountId} itemId={opened} point={point} onClose={() => setOpened(null)} />}
        </>
      )}
    </div>
  );
}

function toggle(set: Set<number>, id: number): Set<number> {
  const next = new Set(set);
  if (next.has(id)) next.delete(id);
  else next.add(id);
  return next;
}

/** Downloads and restores of the selection, or of the folder shown when nothing is selected. */
function ItemActions({
  accountId,
  server,
  point,
  items,
  folder,
  backup,
  onRestored,
  wholeCopyHref,
}: {
  accountId: string;
  server: string;
  point: MailPoint;
  items: Set<number>;
  folder: string;
  backup: boolean;
  onRestored: () => void;
  /** The restore wizard, prefilled to copy the whole account at this point into restore_<name>. */
  wholeCopyHref: string | null;
}) {
  const client = useQueryClient();
  // Back where they were (which may replace live items) is an admin's; helpdesk adds a Recovered folder.
  const isAdmin = useIsAdmin();
  const [asking, setAsking] = useState(false);
  const [into, setInto] = useState<"recovered" | "original">("recovered");
  const [target, setTarget] = useState(`/Recovered ${today()}`);
  const ids = [...items];
  const what = ids.length ? `${ids.length} selected message(s)` : folder ? `folder ${folder}` : "the whole mailbox";
  const scope: Record<string, string> = ids.length ? { ids: ids.join(",") } : folder ? { folder } : {};
  const download = (format: string) => `/api/accounts/${accountId}/download?${new URLSearchParams({ format, ...pointParams(point), ...scope })}`;
  const restore = useMutation({
    mutationFn: () =>
      sendJson<RestoreItemsResult | { state: "running"; jobId: string }>("POST", `/api/accounts/${accountId}/restore-items`, {
        ...pointParams(point),
        ...(ids.length ? { itemIds: ids } : { folders: [folder] }),
        into,
        ...(into === "recovered" ? { folder: target } : {}),
      }),
    onSuccess: () => {
      setAsking(false);
      onRestored();
      void client.invalidateQueries({ queryKey: ["messages", accountId] });
      void client.invalidateQueries({ queryKey: ["account", accountId] });
    },
  });
  const canRestore = backup && (ids.length > 0 || folder !== "");
  return (
    <div className="space-y-2">
      <div role="toolbar" aria-label="Selected mail" className="flex flex-wrap items-center gap-2 text-sm">
        <span className="text-slate-600">{ids.length ? `${ids.length} selected` : folder ? `Folder ${folder}` : "Whole mailbox"}:</span>
        <a className={buttonClass()} href={download("mbox")} download>
          Download .mbox
        </a>
        <a className={buttonClass()} href={download("zip")} download>
          Download .zip
        </a>
        {canRestore && (
          <button className={buttonClass("primary")} onClick={() => setAsking(true)} disabled={asking}>
            Restore {ids.length ? "selected" : "this folder"}…
          </button>
        )}
        {backup && !canRestore && <span className="text-xs text-slate-500">Select messages, or choose a folder, to restore them.</span>}
        {wholeCopyHref && (
          <Link href={wholeCopyHref} className={`${buttonClass()} ml-auto`}>
            Whole account at this point into a copy…
          </Link>
        )}
      </div>
      {asking && (
        <form
          aria-label="Restore items"
          className="space-y-2 rounded-md border border-sky-200 bg-sky-50 px-4 py-3 text-sm"
          onSubmit={(e) => {
            e.preventDefault();
            restore.mutate();
          }}
        >
          <p>Restore {what} into the live account:</p>
          <label className="flex items-center gap-2">
            <input type="radio" name="into" checked={into === "recovered"} onChange={() => setInto("recovered")} />
            into the folder
            <input aria-label="Recovered folder" className={`${inputClass} w-56`} value={target} onChange={(e) => setTarget(e.target.value)} disabled={into !== "recovered"} />
            (their folders below it)
          </label>
          {isAdmin && (
            <label className="flex items-center gap-2">
              <input type="radio" name="into" checked={into === "original"} onChange={() => setInto("original")} />
              back where they were (folders made again if they are gone)
            </label>
          )}
          <p className="text-xs text-slate-600">Messages the account already has in the same place are skipped. Each restored message is recorded in the audit log.</p>
          <span className="flex gap-2">
            <button type="submit" className={buttonClass("primary")} disabled={restore.isPending}>
              {restore.isPending ? "Restoring…" : "Restore"}
            </button>
            <button type="button" className={buttonClass()} onClick={() => setAsking(false)}>
              Cancel
            </button>
          </span>
          <ErrorText error={restore.error} />
        </form>
      )}
      {restore.data && (
        <p role="status" className="rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-900">
          {"state" in restore.data ? (
            <>
              Still restoring: follow it on <TextLink href={`/jobs/${encodeURIComponent(restore.data.jobId)}?server=${encodeURIComponent(server)}`}>its job</TextLink>.
            </>
          ) : (
            <>
              Restored {restore.data.copied} item(s) into {restore.data.into}
              {restore.data.skipped ? `; ${restore.data.skipped} already there, skipped` : ""}.
              {restore.data.problems.length > 0 && ` Problems: ${restore.data.problems.join("; ")}`}
            </>
          )}
        </p>
      )}
    </div>
  );
}
