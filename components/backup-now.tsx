"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { getJson } from "./api";
import { useServers } from "./queries";

interface Submitted {
  label: string;
  server: string;
}

export function BackupNow({ defaultServer }: { defaultServer?: string }) {
  const servers = useServers();
  const router = useRouter();
  const client = useQueryClient();
  const [server, setServer] = useState(defaultServer ?? "");
  const chosen = server || servers.data?.[0]?.name || "";
  const start = useMutation({
    mutationFn: (type: "full" | "incremental") =>
      getJson<Submitted>("/api/backups", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ server: chosen, type }) }),
    onSuccess: (s) => {
      void client.invalidateQueries({ queryKey: ["sessions"] });
      router.push(`/sessions/${encodeURIComponent(s.label)}?server=${encodeURIComponent(s.server)}`);
    },
  });
  const button = "rounded-md px-3 py-1.5 text-sm font-medium shadow-sm focus-visible:ring-2 focus-visible:ring-sky-400 disabled:opacity-50";
  return (
    <div className="flex flex-col items-end gap-1">
      <div className="flex items-center gap-2">
        {!defaultServer && (
          <label>
            <span className="sr-only">Server to back up</span>
            <select value={chosen} onChange={(e) => setServer(e.target.value)} className="rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm">
              {servers.data?.map((s) => (
                <option key={s.name} value={s.name}>
                  {s.name}
                </option>
              ))}
            </select>
          </label>
        )}
        <button onClick={() => start.mutate("full")} disabled={start.isPending || !chosen} className={`${button} bg-sky-600 text-white hover:bg-sky-700`}>
          Back up now: full
        </button>
        <button onClick={() => start.mutate("incremental")} disabled={start.isPending || !chosen} className={`${button} border border-slate-300 bg-white text-slate-700 hover:bg-slate-50`}>
          Incremental
        </button>
      </div>
      {start.isError && (
        <span role="alert" className="text-sm text-red-700">
          {start.error.message}
        </span>
      )}
    </div>
  );
}
