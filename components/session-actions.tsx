"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import type { SessionVerification } from "@/server/backup/verify-session";
import { sendJson } from "./api";
import { buttonClass, ErrorText } from "./ui";
import { useIsAdmin } from "./use-me";

export function restoreHref(params: { label: string; type: string; account?: string }): string {
  const query = new URLSearchParams({ label: params.label, type: params.type, ...(params.account ? { account: params.account } : {}) });
  return `/restore?${query}`;
}

/** A completed session's actions: restore from it (everyone), verify and delete (admins). */
export function SessionActions({ server, label, type }: { server: string; label: string; type: string }) {
  const isAdmin = useIsAdmin();
  const router = useRouter();
  const client = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const q = `?server=${encodeURIComponent(server)}`;
  const verify = useMutation({
    mutationFn: () => sendJson<{ reports: SessionVerification[] }>("POST", `/api/sessions/${encodeURIComponent(label)}/verify${q}`),
    // The result is kept with the session: its page and the list show it from now on.
    onSettled: () => void client.invalidateQueries({ queryKey: ["sessions"] }),
  });
  const remove = useMutation({
    mutationFn: () => sendJson("DELETE", `/api/sessions/${encodeURIComponent(label)}${q}`),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ["sessions"] });
      router.push(`/sessions?server=${encodeURIComponent(server)}`);
    },
  });
  const report = verify.data?.reports[0];
  return (
    <div className="flex flex-col items-end gap-2">
      <div className="flex flex-wrap justify-end gap-2">
        <Link href={restoreHref({ label, type })} className={buttonClass("primary")}>
          Restore from this session
        </Link>
        {isAdmin && (
          <button onClick={() => verify.mutate()} disabled={verify.isPending} className={buttonClass()}>
            {verify.isPending ? "Verifying…" : "Verify"}
          </button>
        )}
        {isAdmin &&
          (confirming ? (
            <span className="inline-flex items-center gap-1 rounded-md bg-red-50 px-2 py-1 text-sm text-red-800">
              Delete {label}?
              <button onClick={() => remove.mutate()} disabled={remove.isPending} className={buttonClass("danger")}>
                Yes, delete
              </button>
              <button onClick={() => setConfirming(false)} className={buttonClass()}>
                Keep
              </button>
            </span>
          ) : (
            <button onClick={() => setConfirming(true)} className={buttonClass("danger")}>
              Delete
            </button>
          ))}
      </div>
      <ErrorText error={verify.error ?? remove.error} />
      {report && (
        <div role="status" className={`max-w-lg rounded-md px-3 py-2 text-sm ${report.ok ? "bg-emerald-50 text-emerald-900" : "bg-red-50 text-red-800"}`}>
          {report.ok
            ? `Verified: ${report.files} files, ${report.blobs} blobs and ${report.segments} redo segments are intact.`
            : `Damaged: ${report.problems.length} problem(s).`}
          {!report.ok && (
            <ul className="mt-1 list-disc pl-5">
              {report.problems.slice(0, 20).map((p) => (
                <li key={`${p.kind}:${p.path}`}>
                  {p.kind} {p.path}: {p.message}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}
