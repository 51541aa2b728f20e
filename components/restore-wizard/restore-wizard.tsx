"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { useRouter, useSearchParams } from "next/navigation";
import { useEffect, useState, type ReactNode } from "react";
import type { RestorePlan } from "@/server/restore/plan-restore";
import type { SubmittedRestore } from "@/server/restore/submit-restore";
import { getJson, sendJson } from "../api";
import type { AccountPageData } from "../queries";
import { buttonClass, ErrorText, PageHeader } from "../ui";
import { useMe } from "../use-me";
import { ChooseAccounts } from "./choose-accounts";
import { ChooseOptions } from "./choose-options";
import { ChoosePoint } from "./choose-point";
import { ChooseTarget, confirmationPhrase } from "./choose-target";
import { PlanPreview, PlanRefused } from "./plan-preview";
import { NO_OPTIONS, toRequest, type PointChoice, type WizardState } from "./state";

function Step({ n, title, children, done }: { n: number; title: string; children: ReactNode; done?: boolean }) {
  return (
    <section aria-labelledby={`step-${n}`} className="rounded-lg border border-slate-200 bg-white shadow-sm">
      <header className="flex items-center gap-3 border-b border-slate-100 px-4 py-3">
        <span aria-hidden className={`grid h-6 w-6 place-items-center rounded-full text-xs font-semibold ${done ? "bg-emerald-500 text-white" : "bg-slate-200 text-slate-700"}`}>
          {done ? "✓" : n}
        </span>
        <h2 id={`step-${n}`} className="text-sm font-semibold text-slate-800">
          {title}
        </h2>
      </header>
      <div className="p-4">{children}</div>
    </section>
  );
}

/** The point a link asked for: ?label=…&type=incremental, ?time=…, ?seq=…&note=…&at=… */
function pointFromUrl(params: URLSearchParams): PointChoice {
  if (params.get("label")) return { kind: "session", label: params.get("label")!, type: params.get("type") === "incremental" ? "incremental" : "full" };
  if (params.get("time")) return { kind: "time", time: params.get("time")!.replace(/Z$/, "").slice(0, 19) };
  if (params.get("seq")) return { kind: "seq", seq: Number(params.get("seq")), note: params.get("note") ?? undefined, at: params.get("at") ?? undefined };
  return { kind: "latest" };
}

export function RestoreWizard() {
  const params = useSearchParams();
  const router = useRouter();
  const me = useMe();
  const isAdmin = me.data?.role === "admin";
  const [state, setState] = useState<WizardState>(() => ({ accounts: [], point: pointFromUrl(params), target: { mode: "copy", prefix: "restore_" }, options: NO_OPTIONS }));
  const set = (patch: Partial<WizardState>) => setState((s) => ({ ...s, ...patch }));
  // Helpdesk is called about something lost: their point step opens on the deletions.
  const role = me.data?.role;
  useEffect(() => {
    const asked = ["label", "time", "seq"].some((key) => params.has(key));
    if (role && role !== "admin" && !asked) setState((s) => (s.point.kind === "latest" ? { ...s, point: { kind: "seq", seq: 0 } } : s));
  }, [role, params]);

  // Prefilled from a session, an account or the redo browser: ?account=<id>
  const prefillId = params.get("account");
  const prefill = useQuery({ queryKey: ["accounts", prefillId], queryFn: () => getJson<AccountPageData>(`/api/accounts/${prefillId}`), enabled: Boolean(prefillId) });
  useEffect(() => {
    const a = prefill.data?.account;
    if (a) setState((s) => (s.accounts.length ? s : { ...s, accounts: [{ id: a.id, email: a.email, server: a.server, deletedAt: a.deletedAt, matchedFormerName: null }] }));
  }, [prefill.data]);

  const request = toRequest(state, true);
  const key = JSON.stringify(request);
  const plan = useMutation({ mutationKey: ["plan"], mutationFn: (body: typeof request) => sendJson<{ plan: RestorePlan }>("POST", "/api/restores", body).then((r) => ({ key: JSON.stringify(body), plan: r.plan })) });
  const run = useMutation({
    mutationFn: () => sendJson<SubmittedRestore>("POST", "/api/restores", toRequest(state, false)),
    onSuccess: (r) => router.push(`/restores/${encodeURIComponent(r.label)}`),
  });
  const planned = plan.data?.key === key ? plan.data.plan : undefined;
  const stale = plan.data && plan.data.key !== key;
  const confirmed = state.target.mode === "copy" || state.target.confirmation.trim().toLowerCase() === confirmationPhrase(state.accounts).toLowerCase();
  const ready = state.accounts.length > 0 && (state.point.kind !== "seq" || state.point.seq > 0) && (state.point.kind !== "session" || state.point.label !== "");

  return (
    <>
      <PageHeader
        title="Restore"
        subtitle={isAdmin ? "Bring back accounts as they were at a point in time, into a copy or in place." : "Bring back one account as it was at a point in time, into a new copy; the original is not touched."}
      />
      <div className="space-y-4">
        <Step n={1} title={isAdmin ? "Accounts" : "Account"} done={state.accounts.length > 0}>
          <ChooseAccounts chosen={state.accounts} single={!isAdmin} onChange={(accounts) => set({ accounts })} />
        </Step>
        {state.accounts.length === 0 && (
          <p className="px-1 text-sm text-slate-500">Then: the restore point on the account&apos;s timeline → where to restore → options → the plan, shown before anything runs.</p>
        )}
        {state.accounts.length > 0 && (
          <>
            <Step n={2} title="Restore point">
              <ChoosePoint
                accounts={state.accounts}
                point={state.point}
                onChange={(point) => set({ point })}
                next={
                  ready && state.target.mode === "copy" && !planned ? (
                    <button
                      className={buttonClass("primary")}
                      disabled={plan.isPending}
                      onClick={() => {
                        plan.mutate(request);
                        document.getElementById("step-5")?.scrollIntoView({ behavior: "smooth", block: "start" });
                      }}
                    >
                      {plan.isPending ? "Planning…" : "Plan this restore"}
                    </button>
                  ) : undefined
                }
              />
            </Step>
            <Step n={3} title="Where to">
              <ChooseTarget accounts={state.accounts} target={state.target} onChange={(target) => set({ target })} allowInPlace={isAdmin} />
            </Step>
            <Step n={4} title="Options">
              {state.target.mode === "copy" ? (
                <details>
                  <summary className="cursor-pointer text-sm text-slate-600">More options (they change what the copy holds; none is needed to bring back lost mail)</summary>
                  <div className="mt-3">
                    <ChooseOptions options={state.options} onChange={(options) => set({ options })} several={state.accounts.length > 1} />
                  </div>
                </details>
              ) : (
                <ChooseOptions options={state.options} onChange={(options) => set({ options })} several={state.accounts.length > 1} />
              )}
            </Step>
            <Step n={5} title="Plan" done={Boolean(planned)}>
              <div className="space-y-3">
                <div className="flex flex-wrap items-center gap-3">
                  <button className={buttonClass("secondary")} disabled={!ready || plan.isPending} onClick={() => plan.mutate(request)}>
                    {plan.isPending ? "Planning…" : planned ? "Plan again" : "Preview the plan"}
                  </button>
                  {stale && <span className="text-sm text-amber-700">The choices changed since this plan: preview it again.</span>}
                  {!planned && !stale && <span className="text-sm text-slate-500">Nothing changes until you run it.</span>}
                </div>
                {plan.isError && (
                  <PlanRefused
                    error={plan.error}
                    onUsePrefix={(prefix) => {
                      const next = { ...state, target: { mode: "copy" as const, prefix } };
                      setState(next);
                      plan.mutate(toRequest(next, true));
                    }}
                  />
                )}
                {planned && <PlanPreview plan={planned} pointNote={state.point.kind === "seq" ? state.point.note : undefined} />}
                {planned && (
                  <div className="flex flex-wrap items-center gap-3 border-t border-slate-100 pt-3">
                    <button className={buttonClass(state.target.mode === "in-place" ? "danger" : "primary")} disabled={!confirmed || run.isPending} onClick={() => run.mutate()}>
                      {run.isPending ? "Starting…" : state.target.mode === "in-place" ? "Run the restore in place" : "Run the restore"}
                    </button>
                    {!confirmed && <span className="text-sm text-red-700">Type the confirmation in step 3 first.</span>}
                    <ErrorText error={run.error} />
                  </div>
                )}
              </div>
            </Step>
          </>
        )}
      </div>
    </>
  );
}
