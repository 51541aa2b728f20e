"use client";

import { useMutation } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import type { CopyBackResult } from "@/server/restore/copy-back";
import { sendJson } from "./api";
import { MailboxBrowser } from "./mailbox-browser";
import { useAccount } from "./queries";
import { buttonClass, Card, EmptyState, ErrorState, ErrorText, inputClass, Loading, PageHeader, TextLink } from "./ui";
import { useMessages } from "./mailbox-browser";

/** Copy-back: choose folders or messages of a prefixed copy and copy them into the original account. */
export function CopyBack({ accountId }: { accountId: string }) {
  const copy = useAccount(accountId);
  const folders = useMessages(accountId, {}, 1);
  const [to, setTo] = useState("");
  const [items, setItems] = useState<Set<number>>(new Set());
  const [chosenFolders, setChosenFolders] = useState<Set<string>>(new Set());
  const [onConflict, setOnConflict] = useState<"skip" | "replace">("skip");
  // Prefilled with the account the copy was restored from, when a restore run made it.
  const original = copy.data?.copyOf?.originalEmail;
  useEffect(() => {
    if (original && !to) setTo(original);
  }, [original, to]);
  const run = useMutation({
    mutationFn: () =>
      sendJson<CopyBackResult>("POST", "/api/copy-back", {
        server: copy.data!.account.server,
        from: copy.data!.account.email,
        to: to.trim(),
        folders: [...chosenFolders],
        itemIds: [...items],
        onConflict,
      }),
  });
  if (copy.isPending) return <Loading rows={6} />;
  if (copy.isError) return <ErrorState error={copy.error} retry={() => copy.refetch()} />;
  // Copy-back takes mail from a prefixed copy a restore made: for any other account there is nothing to open.
  if (!copy.data.copyOf) {
    return (
      <EmptyState title={`${copy.data.account.email} is not a copy made by a restore`}>
        Copy-back copies from a prefixed copy (restore_…) into its original. <TextLink href={`/accounts/${accountId}`}>Back to the account</TextLink>
      </EmptyState>
    );
  }
  const toggle = <T,>(set: Set<T>, value: T) => {
    const next = new Set(set);
    if (next.has(value)) next.delete(value);
    else next.add(value);
    return next;
  };
  const count = items.size + chosenFolders.size;
  return (
    <>
      <PageHeader
        title={`Copy back from ${copy.data.account.email}`}
        subtitle={
          <>
            Choose folders or messages of this copy and copy them into the original account. Each copied item is a normal change there (with its redo record). Back to{" "}
            <TextLink href={`/accounts/${accountId}`}>the copy</TextLink>.
          </>
        }
      />
      <div className="grid gap-4 xl:grid-cols-[20rem_minmax(0,1fr)]">
        <Card title="Copy into">
          <div className="space-y-3 text-sm">
            <label className="flex flex-col gap-1">
              Original account
              <input aria-label="Copy into account" value={to} onChange={(e) => setTo(e.target.value)} placeholder="alice@example.com" className={inputClass} />
            </label>
            <fieldset>
              <legend className="mb-1">When the original already has the item</legend>
              <label className="flex gap-2">
                <input type="radio" name="conflict" checked={onConflict === "skip"} onChange={() => setOnConflict("skip")} /> skip it
              </label>
              <label className="flex gap-2">
                <input type="radio" name="conflict" checked={onConflict === "replace"} onChange={() => setOnConflict("replace")} /> replace it
              </label>
            </fieldset>
            <fieldset>
              <legend className="mb-1">Whole folders (with subfolders)</legend>
              {(folders.data && "folders" in folders.data ? folders.data.folders : [])
                .filter((f) => f.path !== "/")
                .map((f) => (
                  <label key={f.id} className="flex gap-2">
                    <input type="checkbox" checked={chosenFolders.has(f.path)} onChange={() => setChosenFolders(toggle(chosenFolders, f.path))} />
                    {f.path} <span className="text-slate-500">({f.messages + f.contacts})</span>
                  </label>
                ))}
            </fieldset>
            <button className={buttonClass("primary")} disabled={count === 0 || !to.trim() || run.isPending} onClick={() => run.mutate()}>
              {run.isPending ? "Copying…" : `Copy ${items.size} message(s) and ${chosenFolders.size} folder(s) back`}
            </button>
            <ErrorText error={run.error} />
            {run.data && (
              <p role="status" className="rounded-md bg-emerald-50 px-3 py-2 text-emerald-900">
                Copied {run.data.copied}, skipped {run.data.skipped}, replaced {run.data.replaced}
                {run.data.foldersCreated.length ? `; created ${run.data.foldersCreated.join(", ")}` : ""}
                {run.data.problems.length ? `; problems: ${run.data.problems.join("; ")}` : ""}.
              </p>
            )}
          </div>
        </Card>
        <Card title="Messages of the copy">
          <MailboxBrowser accountId={accountId} selection={{ items, toggle: (id) => setItems((s) => toggle(s, id)) }} />
        </Card>
      </div>
    </>
  );
}
