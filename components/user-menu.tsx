"use client";

import { useMutation } from "@tanstack/react-query";
import { sendJson } from "./api";
import { useMe } from "./use-me";

export function UserMenu() {
  const me = useMe();
  const signOut = useMutation({
    mutationFn: () => sendJson("POST", "/api/auth/logout"),
    onSettled: () => window.location.assign("/login"),
  });
  if (!me.data) return null;
  return (
    <div className="mt-6 border-t border-slate-800 px-3 pt-4 text-sm lg:mt-auto">
      <p className="truncate font-medium text-slate-200" title={me.data.email}>
        {me.data.email}
      </p>
      <p className="text-xs text-slate-400">{me.data.role === "admin" ? "Administrator" : "Helpdesk"}</p>
      <button
        onClick={() => signOut.mutate()}
        disabled={signOut.isPending}
        className="mt-2 rounded-md px-2 py-1 text-xs font-medium text-slate-300 ring-1 ring-slate-700 hover:bg-slate-800 hover:text-white focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-sky-400"
      >
        Sign out
      </button>
    </div>
  );
}
