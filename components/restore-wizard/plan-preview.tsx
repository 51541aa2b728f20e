"use client";

import type { RestorePlan } from "@/server/restore/plan-restore";
import { ApiError } from "../api";
import { useAccount } from "../queries";
import { Badge, formatDate, localTimeHint, When } from "../ui";

/** The restore point as one phrase, the same on the plan, the run and the copy's page: "2026-12-01 14:52 UTC, just before folder /Inbox/Projects was deleted". */
export function pointPhrase(point: RestorePlan["point"]): string {
  if (point.justBefore) return `${point.justBefore}${localTimeHint(point.justBeforeAt)}`;
  if (point.time) return `${formatDate(point.time)}${localTimeHint(point.time)}`;
  return point.description;
}

/** "formerly daniel.brown@…": the names the caller may still give, beside the one shown. */
export function FormerNames({ accountId, shown, inSentence = false }: { accountId: string; shown: string; /** Inside running text: in parentheses. */ inSentence?: boolean }) {
  const account = useAccount(accountId);
  const former = (account.data?.account.names ?? []).filter((n) => n.validTo !== null && n.email !== shown).map((n) => n.email);
  if (former.length === 0) return null;
  const text = `formerly ${former.join(", ")}`;
  return <span className={inSentence ? "" : "text-xs text-slate-500"}>{inSentence ? `(${text})` : text}</span>;
}

function replaysNothing(redo: RestorePlan["accounts"][number]["redo"]): boolean {
  return redo.changes === 0 || (redo.sessions.length === 0 && !redo.archive && !redo.currentLog);
}

function redoLine(redo: RestorePlan["accounts"][number]["redo"]): string {
  const parts = [
    ...redo.sessions.map((s) => `${s.label} (redo ${s.fromSeq}–${s.throughSeq})`),
    ...(redo.archive ? [`the redo archive after ${redo.archive.afterSeq} through ${redo.archive.throughSeq}`] : []),
    ...(redo.currentLog ? ["the current redo log"] : []),
  ];
  if (parts.length === 0) return "nothing: the full backup as it is";
  const until = [redo.untilSeq !== null && `through redo ${redo.untilSeq}`, redo.untilTime && `up to ${formatDate(redo.untilTime)}`, redo.stopBeforeDeletion && "stopping before the mailbox was deleted"].filter(Boolean);
  return `${parts.join(", then ")}${until.length ? `, ${until.join(", ")}` : ""}`;
}

/** Why a plan was refused: every reason the planner gave, one per line. */
export function PlanRefused({ error, onUsePrefix }: { error: Error; /** Takes the free prefix the planner proposed when only the copy's name was taken. */ onUsePrefix?: (prefix: string) => void }) {
  const details = error instanceof ApiError ? (error.details as { reasons?: unknown; suggestedPrefix?: unknown } | undefined) : undefined;
  const reasons = Array.isArray(details?.reasons) ? (details.reasons as string[]) : [error.message];
  const suggested = typeof details?.suggestedPrefix === "string" ? details.suggestedPrefix : null;
  if (suggested && onUsePrefix) {
    return (
      <div role="status" className="flex flex-wrap items-center gap-3 rounded-md border border-amber-200 bg-amber-50 px-4 py-3 text-sm text-amber-900">
        <span>{reasons.join(" ")} A copy from an earlier restore has that name.</span>
        <button className="rounded-md bg-sky-600 px-3 py-1.5 font-medium text-white hover:bg-sky-700" onClick={() => onUsePrefix(suggested)}>
          Use {suggested} instead
        </button>
      </div>
    );
  }
  return (
    <div role="alert" className="rounded-md border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800">
      <p className="font-medium">This restore cannot run:</p>
      <ul className="mt-1 list-disc pl-5">
        {reasons.map((r) => (
          <li key={r}>{r}</li>
        ))}
      </ul>
    </div>
  );
}

/** Step 5: what the restore will do, exactly as the API planned it, with its warnings. */
export function PlanPreview({ plan, pointNote }: { plan: RestorePlan; /** The point in the caller's terms, when the wizard knows it. */ pointNote?: string }) {
  const technical = (
    <>
      {plan.point.description}
      {plan.point.time && <> — <When iso={plan.point.time} /></>}
      {plan.point.seq !== null && <> — redo {plan.point.seq}</>}
    </>
  );
  const inCallersTerms = plan.point.justBefore ? pointPhrase(plan.point) : pointNote;
  return (
    <div className="space-y-3 text-sm" aria-label="Restore plan">
      {inCallersTerms ? (
        <div>
          <p>
            Restore point: <span className="font-medium">{inCallersTerms}</span>
          </p>
          <p className="text-xs text-slate-500">Details: {technical}</p>
        </div>
      ) : (
        <p>
          Restore point: <span className="font-medium">{technical}</span>
        </p>
      )}
      {plan.warnings.length > 0 && (
        <ul aria-label="Warnings" className="space-y-1 rounded-md border border-amber-200 bg-amber-50 px-4 py-2 text-amber-900">
          {plan.warnings.map((w) => (
            <li key={w}>⚠ {w}</li>
          ))}
        </ul>
      )}
      <ul className="space-y-2">
        {plan.accounts.map((a) => (
          <li key={a.accountId} className="rounded-md border border-slate-200 bg-white p-3">
            <p className="flex flex-wrap items-center gap-2">
              <span className="font-medium">{a.emailAtPoint}</span>
              <FormerNames accountId={a.accountId} shown={a.emailAtPoint} />
              {a.deleted && <Badge tone="red">deleted</Badge>}
              <span aria-hidden>→</span>
              <code className="rounded bg-slate-100 px-1.5 py-0.5">{a.target.email}</code>
              <Badge tone={a.target.mode === "copy" ? "green" : "red"}>{a.target.mode === "copy" ? "new copy" : "in place"}</Badge>
            </p>
            <dl className="mt-2 grid gap-1 text-slate-600 sm:grid-cols-[9rem_1fr]">
              <dt>Why this account</dt>
              <dd>{a.chosenBecause}</dd>
              <dt>Full backup</dt>
              <dd>
                {a.snapshot ? (
                  <>
                    {a.snapshot.session}, snapshot <When iso={a.snapshot.snapshotAt} />
                  </>
                ) : (
                  <>none: rebuilt from redo alone, from its creation {a.fromCreate ? formatDate(a.fromCreate.at) : ""}</>
                )}
              </dd>
              <dt>Then replays</dt>
              <dd>
                {inCallersTerms ? (
                  <>
                    {replaysNothing(a.redo)
                      ? "nothing: the backup already stands at that moment"
                      : a.redo.changes === undefined
                        ? "the changes recorded after that backup, up to that moment"
                        : `the ${a.redo.changes === 1 ? "1 change" : `${a.redo.changes} changes`} recorded after that backup, up to that moment`}
                    <span className="block text-xs text-slate-500">Details: {redoLine(a.redo)}</span>
                  </>
                ) : (
                  redoLine(a.redo)
                )}
              </dd>
              {a.gaps.length > 0 && (
                <>
                  <dt className="text-red-700">Gaps</dt>
                  <dd className="text-red-700">{a.gaps.map((g) => `redo ${g.from}–${g.to}`).join(", ")}</dd>
                </>
              )}
            </dl>
          </li>
        ))}
      </ul>
      {plan.skipped.length > 0 && (
        <p className="text-slate-600">
          Left out: {plan.skipped.map((s) => `${s.requested} (${s.reason})`).join("; ")}
        </p>
      )}
      <ul aria-label="What the options do" className="list-disc pl-5 text-slate-600">
        {plan.options.map((o) => (
          <li key={o.name}>
            <span className="font-medium text-slate-800">{o.name}</span>: {o.effect}
          </li>
        ))}
      </ul>
    </div>
  );
}
