"use client";

import type { ServerSummary } from "@/server/directory/list-servers";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { sendJson } from "./api";
import { useServers } from "./queries";
import { buttonClass, ErrorText } from "./ui";

interface Submitted {
  label: string;
  server: string;
}

/** What "Back up now" can start: a full (an auto-grouped run on such a server), a full of every account, an incremental, one account's full. */
type Kind = "full" | "all" | "incremental" | "account";

function liveAccounts(s: ServerSummary): number {
  return s.accounts.total - s.accounts.deleted;
}

/** The confirmation, in the admin's terms: which server, which accounts, and what an auto-grouped server does. */
export function backupSentence(kind: Kind, s: ServerSummary, email?: string): string {
  const live = liveAccounts(s);
  const groups = s.settings.autoGrouped.groups;
  const autoGrouped = s.backupMode === "auto_grouped";
  switch (kind) {
    case "account":
      return `Full backup of ${email} on ${s.name}.`;
    case "all":
      return `Full backup of all ${live} accounts of ${s.name}, outside its auto-grouped rotation.`;
    case "incremental":
      return `Incremental backup of ${s.name}: the redo since the last session, and a full of any of its ${live} accounts that has none.${autoGrouped ? " The auto-grouped rotation does not move: the next auto-grouped run takes the same accounts." : ""}`;
    case "full":
      return autoGrouped
        ? `Auto-grouped run on ${s.name}: about ${Math.ceil(live / groups)} of ${live} accounts in full (never backed up first, then the oldest 1/${groups}), the redo for the rest.`
        : `Full backup of ${s.name}: all ${live} accounts.`;
  }
}

/**
 * "Back up now". On the Sessions page it follows the page's server filter (its own picker only
 * when the filter shows every server); on a server's page it is that server's, on an account's
 * page that account's. Each start is confirmed with the server and the accounts it covers.
 */
export function BackupNow({ server: fixed, account }: { server?: string; account?: { email: string; server: string } }) {
  const servers = useServers();
  const router = useRouter();
  const client = useQueryClient();
  const [picked, setPicked] = useState("");
  const [confirming, setConfirming] = useState<Kind | null>(null);
  const name = account?.server ?? fixed ?? (picked || servers.data?.[0]?.name || "");
  const server = servers.data?.find((s) => s.name === name);
  const start = useMutation({
    mutationFn: (kind: Kind) =>
      sendJson<Submitted>("POST", "/api/backups", {
        server: name,
        type: kind === "incremental" ? "incremental" : "full",
        ...(kind === "all" ? { accounts: "all" } : kind === "account" ? { accounts: [account!.email] } : {}),
      }),
    onSuccess: (s) => {
      void client.invalidateQueries({ queryKey: ["sessions"] });
      router.push(`/sessions/${encodeURIComponent(s.label)}?server=${encodeURIComponent(s.server)}`);
    },
  });
  const autoGrouped = server?.backupMode === "auto_grouped";
  const ask = (kind: Kind) => {
    start.reset();
    setConfirming(kind);
  };
  return (
    <div className="flex flex-col items-end gap-1">
      <div className="flex flex-wrap items-center justify-end gap-2">
        {!fixed && !account && (
          <label>
            <span className="sr-only">Server to back up</span>
            <select value={name} onChange={(e) => (setPicked(e.target.value), setConfirming(null))} className="rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm">
              {servers.data?.map((s) => (
                <option key={s.name} value={s.name}>
                  {s.name}
                </option>
              ))}
            </select>
          </label>
        )}
        {account ? (
          <button onClick={() => ask("account")} disabled={!server} className={buttonClass()}>
            Back up this account…
          </button>
        ) : (
          <>
            <button onClick={() => ask("full")} disabled={!server} className={buttonClass("primary")}>
              {autoGrouped ? "Back up now: auto-grouped run" : "Back up now: full"}
            </button>
            {autoGrouped && (
              <button onClick={() => ask("all")} disabled={!server} className={buttonClass()}>
                Full of all accounts
              </button>
            )}
            <button onClick={() => ask("incremental")} disabled={!server} className={buttonClass()}>
              Incremental
            </button>
          </>
        )}
      </div>
      {confirming && server && (
        <div role="group" aria-label="Confirm the backup" className="flex max-w-xl flex-wrap items-center justify-end gap-2 rounded-md border border-sky-200 bg-sky-50 px-3 py-2 text-sm text-sky-950">
          <span>{backupSentence(confirming, server, account?.email)}</span>
          <button onClick={() => setConfirming(null)} className={buttonClass()}>
            Cancel
          </button>
          <button onClick={() => start.mutate(confirming)} disabled={start.isPending} className={buttonClass("primary")}>
            {start.isPending ? "Starting…" : "Start the backup"}
          </button>
        </div>
      )}
      <ErrorText error={start.error} />
    </div>
  );
}
