"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { useSearchParams } from "next/navigation";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { getJson, sendJson } from "./api";

/** Only paths inside the console: `next` must not send a signed-in user to another site. */
export function safeNext(next: string | null, origin = "http://console.invalid"): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.includes("\\")) return "/";
  // Browsers read "/\\evil.example" as "//evil.example": only a path that stays on this origin counts.
  try {
    const url = new URL(next, origin);
    return url.origin === origin ? `${url.pathname}${url.search}${url.hash}` : "/";
  } catch {
    return "/";
  }
}

export function SignInForm() {
  const params = useSearchParams();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  // Signed in already (a bookmark, the back button): straight on to where the user was going.
  const me = useQuery({ queryKey: ["me"], queryFn: () => getJson<{ user: unknown }>("/api/me"), retry: false });
  const leaving = useRef(false);
  useEffect(() => {
    if (!me.isSuccess || leaving.current) return;
    leaving.current = true; // once: a second replace would cut short wherever the first is going
    window.location.replace(safeNext(params.get("next"), window.location.origin));
  }, [me.isSuccess, params]);
  const signIn = useMutation({
    mutationFn: () => sendJson("POST", "/api/auth/login", { email, password }),
    onSuccess: () => window.location.assign(safeNext(params.get("next"), window.location.origin)),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    signIn.mutate();
  };
  return (
    <form onSubmit={submit} className="rounded-lg border border-slate-200 bg-white p-6 shadow-sm" aria-label="Sign in">
      <h1 className="mb-4 text-base font-semibold">Sign in to the console</h1>
      <label className="block text-sm font-medium text-slate-700" htmlFor="email">
        Email
      </label>
      <input
        id="email"
        type="email"
        autoComplete="username"
        required
        autoFocus
        value={email}
        onChange={(e) => setEmail(e.target.value)}
        className="mt-1 mb-4 w-full rounded-md border border-slate-300 px-3 py-2 text-sm focus:border-sky-500 focus:outline-none focus:ring-2 focus:ring-sky-200"
      />
      <label className="block text-sm font-medium text-slate-700" htmlFor="password">
        Password
      </label>
      <input
        id="password"
        type="password"
        autoComplete="current-password"
        required
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        className="mt-1 mb-4 w-full rounded-md border border-slate-300 px-3 py-2 text-sm focus:border-sky-500 focus:outline-none focus:ring-2 focus:ring-sky-200"
      />
      {signIn.isError && (
        <p role="alert" className="mb-3 rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">
          {signIn.error.message}
        </p>
      )}
      <button
        type="submit"
        disabled={signIn.isPending}
        className="w-full rounded-md bg-slate-900 px-3 py-2 text-sm font-semibold text-white hover:bg-slate-700 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-sky-400 disabled:opacity-60"
      >
        {signIn.isPending ? "Signing in…" : "Sign in"}
      </button>
      <p className="mt-4 text-xs text-slate-500">Forgotten your password? An admin sets a new one on the Users page.</p>
    </form>
  );
}
