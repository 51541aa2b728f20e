"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { TargetView } from "@/server/backup/server-targets";
import { getJson, sendJson } from "./api";
import { useIsAdmin } from "./use-me";
import { Badge, buttonClass, Card, ErrorText, formatBytes, formatDate, TextLink } from "./ui";

/** Copy all sessions the target lacks; the job's page shows how it goes. */
function CopyNow({ server, to }: { server: string; to: string }) {
  const client = useQueryClient();
  const copy = useMutation({
    mutationFn: () => sendJson<{ jobId: string }>("POST", `/api/servers/${encodeURIComponent(server)}/copies`, { to, all: true }),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["servers", server, "targets"] }),
  });
  return (
    <div className="flex flex-col items-start gap-1">
      <button onClick={() => copy.mutate()} disabled={copy.isPending} className={`${buttonClass()} whitespace-nowrap`}>
        {copy.isPending ? "Queuing…" : "Copy now"}
      </button>
      {copy.isSuccess && <TextLink href={`/jobs/${encodeURIComponent(copy.data.jobId)}?server=${encodeURIComponent(server)}`}>copy job {copy.data.jobId}</TextLink>}
      <ErrorText error={copy.error} />
    </div>
  );
}

function lastCopy(t: TargetView): string {
  if (t.role === "primary") return "—";
  return t.lastCopy ? `${t.lastCopy.label}, ${formatDate(t.lastCopy.at)}` : "never";
}

/** Where the server's backups are: its own target and its copy targets (3-2-1). */
export function TargetsCard({ server }: { server: string }) {
  const isAdmin = useIsAdmin();
  const targets = useQuery({
    queryKey: ["servers", server, "targets"],
    queryFn: () => getJson<{ targets: TargetView[] }>(`/api/servers/${encodeURIComponent(server)}/targets`),
  });
  const list = targets.data?.targets ?? [];
  return (
    <Card title="Backup targets" className="lg:col-span-2">
      {targets.isError && <ErrorText error={targets.error} />}
      {list.length > 0 && (
        <div className="overflow-x-auto">
          <table aria-label="Backup targets" className="min-w-full text-sm">
            <thead className="text-left text-xs uppercase tracking-wide text-slate-500">
              <tr>
                {["Target", "Kind", "Location", "Encrypted", "Packs", "Free", "Sessions", "Last copy", ...(isAdmin ? [""] : [])].map((h, i) => (
                  <th key={i} scope="col" className="py-1.5 pr-4 font-medium">
                    {h}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {list.map((t) => (
                <tr key={t.name}>
                  <td className="whitespace-nowrap py-2 pr-4 font-medium text-slate-800">
                    {t.name} {t.role === "copy" && <Badge tone="violet">copy</Badge>}
                  </td>
                  <td className="py-2 pr-4">{t.kind === "s3" ? "S3 bucket" : "folder"}</td>
                  <td className="py-2 pr-4">
                    <code className="font-mono text-xs">{t.location}</code>
                    {t.error && <p className="text-xs text-red-700">cannot be read: {t.error}</p>}
                  </td>
                  <td className="py-2 pr-4">{t.encrypted === null ? "?" : t.encrypted ? <Badge tone="green">encrypted</Badge> : <Badge>no</Badge>}</td>
                  <td className="whitespace-nowrap py-2 pr-4 tabular-nums">{t.packBytes === null ? "?" : formatBytes(t.packBytes)}</td>
                  <td className="whitespace-nowrap py-2 pr-4 tabular-nums">{t.freeBytes === null ? "—" : formatBytes(t.freeBytes)}</td>
                  <td className="py-2 pr-4 tabular-nums">{t.sessions}</td>
                  <td className="py-2 pr-4">{lastCopy(t)}</td>
                  {isAdmin && <td className="py-2">{t.role === "copy" && <CopyNow server={server} to={t.name} />}</td>}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.length === 1 && (
        <p className="mt-2 text-sm text-slate-600">
          No copy targets: every backup of {server} is in one place. Add one with <code className="font-mono text-xs">./bin/mailvault targets add -s {server} offsite s3://bucket/{server}</code>.
        </p>
      )}
    </Card>
  );
}
