"use client";

import { inputClass } from "../ui";
import { copyName, type ChosenAccount, type WizardState } from "./state";

/** Step 3: a prefixed copy (the original untouched), or in place for admins behind a typed confirmation. */
export function ChooseTarget({
  accounts,
  target,
  onChange,
  allowInPlace,
}: {
  accounts: ChosenAccount[];
  target: WizardState["target"];
  onChange: (t: WizardState["target"]) => void;
  allowInPlace: boolean;
}) {
  const phrase = confirmationPhrase(accounts);
  return (
    <div className="space-y-3 text-sm">
      <label className={`flex cursor-pointer gap-2 rounded-md border p-3 ${target.mode === "copy" ? "border-sky-400 bg-sky-50" : "border-slate-200 bg-white"}`}>
        <input type="radio" name="target" checked={target.mode === "copy"} onChange={() => onChange({ mode: "copy", prefix: "restore_" })} className="mt-0.5" />
        <span className="flex-1">
          <span className="font-medium">Into a new copy</span>
          <span className="block text-xs text-slate-500">A new account is created with the restored mail. The original account is not touched; you can copy items back later.</span>
          {target.mode === "copy" && (
            <span className="mt-2 flex flex-wrap items-center gap-2">
              <label className="flex items-center gap-2">
                Prefix
                <input aria-label="Prefix of the copy" value={target.prefix} onChange={(e) => onChange({ mode: "copy", prefix: e.target.value })} className={`${inputClass} w-32`} />
              </label>
              {accounts.slice(0, 3).map((a) => (
                <code key={a.id} className="rounded bg-white px-1.5 py-0.5 text-xs ring-1 ring-slate-200">
                  {copyName(target.prefix, a.email)}
                </code>
              ))}
            </span>
          )}
        </span>
      </label>
      {allowInPlace && (
        <label className={`flex cursor-pointer gap-2 rounded-md border p-3 ${target.mode === "in-place" ? "border-red-400 bg-red-50" : "border-slate-200 bg-white"}`}>
          <input type="radio" name="target" checked={target.mode === "in-place"} onChange={() => onChange({ mode: "in-place", confirmation: "" })} className="mt-0.5" />
          <span className="flex-1">
            <span className="font-medium text-red-800">In place (replaces the current mailbox)</span>
            <span className="block text-xs text-slate-600">
              The account goes into maintenance, its mailbox is emptied and reloaded from the backup, then it is active again. Mail that arrived after the restore point is
              lost from the mailbox (it stays in the redo log and in backups).
            </span>
            {target.mode === "in-place" && (
              <span className="mt-2 block">
                <label className="flex flex-col gap-1">
                  Type <code className="font-semibold">{phrase}</code> to confirm
                  <input
                    aria-label="Type to confirm an in-place restore"
                    value={target.confirmation}
                    onChange={(e) => onChange({ mode: "in-place", confirmation: e.target.value })}
                    className={`${inputClass} max-w-sm`}
                    autoComplete="off"
                  />
                </label>
              </span>
            )}
          </span>
        </label>
      )}
    </div>
  );
}

export function confirmationPhrase(accounts: ChosenAccount[]): string {
  return accounts.length === 1 ? accounts[0]!.email : `replace ${accounts.length} mailboxes`;
}
