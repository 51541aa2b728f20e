"use client";

import type { WizardOptions } from "./state";

type Replay = "all" | "backups" | "none";

/** Step 4: zmrestore's options in plain words. Which redo to replay is one choice, so -br and -rf cannot contradict. */
export function ChooseOptions({ options, onChange, several }: { options: WizardOptions; onChange: (o: WizardOptions) => void; several: boolean }) {
  const replay: Replay = options.noRedo ? "none" : options.backupOnlyRedo ? "backups" : "all";
  const setReplay = (r: Replay) => onChange({ ...options, noRedo: r === "none", backupOnlyRedo: r === "backups" });
  const flag = (key: keyof WizardOptions, label: string, help: string) => (
    <label key={key} className="flex gap-2 rounded-md border border-slate-200 bg-white p-3 text-sm">
      <input type="checkbox" checked={options[key]} onChange={(e) => onChange({ ...options, [key]: e.target.checked })} className="mt-0.5" />
      <span>
        <span className="font-medium">{label}</span>
        <span className="block text-xs text-slate-500">{help}</span>
      </span>
    </label>
  );
  return (
    <div className="space-y-3">
      <fieldset className="rounded-md border border-slate-200 bg-white p-3 text-sm">
        <legend className="px-1 font-medium">Changes made after the full backup</legend>
        {(
          [
            ["all", "Replay every recorded change up to the restore point", "From incremental backups, the redo archive and the live log (the usual choice)."],
            ["backups", "Replay only changes saved in backups (-br)", "Leaves out what the server recorded since the last backup."],
            ["none", "Replay nothing (-rf)", "The mailbox exactly as the full backup holds it."],
          ] as const
        ).map(([value, label, help]) => (
          <label key={value} className="mt-1 flex gap-2">
            <input type="radio" name="replay" checked={replay === value} onChange={() => setReplay(value)} className="mt-0.5" />
            <span>
              {label}
              <span className="block text-xs text-slate-500">{help}</span>
            </span>
          </label>
        ))}
      </fieldset>
      <div className="grid gap-2 sm:grid-cols-2">
        {flag("skipDeletes", "Keep deleted mail (--skipDeletes)", "Deletions, emptied folders, purges and moves to Trash are not replayed, so mail the user deleted comes back.")}
        {flag("ignoreRedoErrors", "Go on past gaps in the redo (--ignoreRedoErrors)", "A missing stretch of changes is skipped and reported instead of stopping the restore.")}
        {flag("excludeBlobs", "Do not copy message bodies (--exclude-blobs)", "Only when the bodies are known to be on the server already; otherwise messages come back without content.")}
        {several && flag("continueOnError", "Continue after a failed account (-c)", "The other accounts are still restored; failures are listed at the end.")}
        {several && flag("skipDeletedAccounts", "Leave out deleted accounts (--skipDeletedAccounts)", "Accounts that were deleted are not restored.")}
      </div>
    </div>
  );
}
