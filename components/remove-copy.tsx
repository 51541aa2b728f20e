"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { sendJson } from "./api";
import { useMe } from "./use-me";
import { buttonClass, ErrorText, inputClass } from "./ui";

/**
 * "Remove this copy…" on a prefixed copy's page: for admins, and for the helpdesk user who made
 * it; the copy's email typed as confirmation (the API checks all of it again).
 */
export function RemoveCopy({ accountId, email, madeBy }: { accountId: string; email: string; madeBy: string }) {
  const me = useMe();
  const router = useRouter();
  const client = useQueryClient();
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState("");
  const remove = useMutation({
    mutationFn: () => sendJson("DELETE", `/api/accounts/${accountId}`, { confirm: typed }),
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: ["accounts"] });
      router.push("/accounts");
    },
  });
  if (!me.data || (me.data.role !== "admin" && me.data.email !== madeBy)) return null;
  if (!open) {
    return (
      <button className={`${buttonClass("danger")} mt-2`} onClick={() => setOpen(true)}>
        Remove this copy…
      </button>
    );
  }
  return (
    <span className="mt-2 flex flex-wrap items-center gap-2">
      <label className="flex items-center gap-2">
        Type <code className="font-semibold">{email}</code> to remove it
        <input aria-label="Type the copy's email to remove it" value={typed} onChange={(e) => setTyped(e.target.value)} className={`${inputClass} w-72`} autoComplete="off" />
      </label>
      <button className={buttonClass("danger")} disabled={typed.trim().toLowerCase() !== email.toLowerCase() || remove.isPending} onClick={() => remove.mutate()}>
        {remove.isPending ? "Removing…" : "Remove the copy"}
      </button>
      <ErrorText error={remove.error} />
    </span>
  );
}
