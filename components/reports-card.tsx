"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import type { reportSettings } from "@/server/reports/send-report";
import { getJson, sendJson } from "./api";
import { useIsAdmin } from "./use-me";
import { Badge, buttonClass, Card, ErrorText, Field, formatDate, inputClass } from "./ui";

type Reports = Awaited<ReturnType<typeof reportSettings>>;

function RecipientsForm({ server, own, onDone }: { server: string; own: string[]; onDone: () => void }) {
  const client = useQueryClient();
  const [text, setText] = useState(own.join(", "));
  const save = useMutation({
    mutationFn: () => sendJson("PATCH", `/api/servers/${encodeURIComponent(server)}`, { reportTo: text.split(",").map((a) => a.trim()).filter(Boolean) }),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ["servers", server] });
      onDone();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <form onSubmit={submit} aria-label={`Report recipients of ${server}`} className="mt-2 flex flex-col gap-2">
      <input aria-label="Report recipients" placeholder="ops@example.com, oncall@example.com (empty: the global list)" value={text} onChange={(e) => setText(e.target.value)} className={`${inputClass} w-full`} />
      <div className="flex gap-2">
        <button type="submit" disabled={save.isPending} className={buttonClass("primary")}>
          {save.isPending ? "Saving…" : "Save recipients"}
        </button>
        <button type="button" onClick={onDone} className={buttonClass()}>
          Cancel
        </button>
      </div>
      <ErrorText error={save.error} />
    </form>
  );
}

/** The server's report mails: who gets them, and the newest one. */
export function ReportsCard({ server }: { server: string }) {
  const isAdmin = useIsAdmin();
  const [editing, setEditing] = useState(false);
  const reports = useQuery({ queryKey: ["servers", server, "reports"], queryFn: () => getJson<Reports>(`/api/servers/${encodeURIComponent(server)}/reports`) });
  const r = reports.data;
  return (
    <Card
      title="Report mails"
      actions={isAdmin && r && !editing ? <button onClick={() => setEditing(true)} className={buttonClass()}>Change recipients</button> : undefined}
    >
      <ErrorText error={reports.error} />
      {r && (
        <dl>
          <Field label="Sending">{r.enabled ? "on" : "off: MAILVAULT_SMTP_URL is not set"}</Field>
          <Field label="Recipients">
            {r.recipients.length ? r.recipients.join(", ") : "nobody (set MAILVAULT_REPORT_TO or this server's recipients)"}
            {r.recipients.length > 0 && <span className="text-slate-500">{r.own.length ? " (this server's own)" : " (MAILVAULT_REPORT_TO)"}</span>}
          </Field>
          <Field label="Last report">
            {r.last ? (
              <>
                {r.last.subject} <Badge tone={r.last.state === "sent" ? "green" : r.last.error ? "red" : "slate"}>{r.last.state}</Badge>
                <span className="block text-xs text-slate-500">
                  {r.last.sentAt ? `sent ${formatDate(r.last.sentAt)} to ${r.last.recipients.join(", ")}` : `written ${formatDate(r.last.createdAt)}`}
                  {r.last.error ? `; ${r.last.error}` : ""}
                </span>
              </>
            ) : (
              "none yet"
            )}
          </Field>
        </dl>
      )}
      {r && editing && <RecipientsForm server={server} own={r.own} onDone={() => setEditing(false)} />}
    </Card>
  );
}
