"use client";

import { BackupNow } from "./backup-now";
import Link from "next/link";
import { RecentDeletions } from "./account-deletions";
import { BackupHistory, RecoverableWindow } from "./account-backups";
import { MailExplorer } from "./mail-explorer";
import type { MailPoint } from "./mailbox-browser";
import { RemoveCopy } from "./remove-copy";
import { FormerNames, pointPhrase } from "./restore-wizard/plan-preview";
import { useAccount } from "./queries";
import { useIsAdmin } from "./use-me";
import { Badge, buttonClass, Card, ErrorState, Field, formatBytes, formatDate, formatQuota, Loading, PageHeader, StatusBadge, TextLink, When } from "./ui";
import { DataGrid, type GridColumn } from "./data-grid";

type FolderRow = { id: number; name: string; path: string; messages: number; unread: number; bytes: number; contacts: number };

const FOLDER_COLUMNS: GridColumn<FolderRow>[] = [
  {
    id: "folder",
    header: "Folder",
    size: 320,
    sort: (f) => f.path,
    cell: (f) => (
      <span style={{ paddingLeft: `${(f.path.split("/").length - 2) * 1.25}rem` }} title={f.path}>
        {f.name}
        {f.id < 256 && <span className="ml-2 text-xs text-slate-400">system</span>}
      </span>
    ),
  },
  { id: "messages", header: "Messages", size: 100, align: "right", sort: (f) => f.messages, cell: (f) => f.messages },
  { id: "unread", header: "Unread", size: 90, align: "right", sort: (f) => f.unread, cell: (f) => f.unread },
  { id: "size", header: "Size", size: 100, align: "right", sort: (f) => f.bytes, cell: (f) => formatBytes(f.bytes) },
  { id: "contacts", header: "Contacts", size: 100, align: "right", sort: (f) => f.contacts, cell: (f) => f.contacts || "" },
];

export function AccountDetailView({ id, point }: { id: string; point?: MailPoint }) {
  const query = useAccount(id);
  const isAdmin = useIsAdmin();
  if (query.isPending) return <Loading rows={8} />;
  if (query.isError) return <ErrorState error={query.error} retry={() => query.refetch()} />;
  const { account, mailbox, mailboxError, copyOf } = query.data;
  const former = account.names.filter((n) => n.validTo !== null);
  return (
    <>
      <PageHeader
        title={account.email}
        subtitle={
          <span className="flex flex-wrap items-center gap-2">
            {account.displayName && <span>{account.displayName}</span>}
            {account.deletedAt ? <Badge tone="red">deleted {account.deletedAt.slice(0, 10)}</Badge> : <StatusBadge status={account.status} />}
            <span>
              on <TextLink href={`/servers/${account.server}`}>{account.server}</TextLink>
            </span>
          </span>
        }
        actions={
          <span className="flex flex-wrap items-start justify-end gap-2">
            {isAdmin && mailbox && !account.deletedAt && <BackupNow account={{ email: account.email, server: account.server }} />}
            {isAdmin && mailbox && copyOf && (
              <Link href={`/accounts/${account.id}/copy-back`} className={buttonClass()}>
                Copy back…
              </Link>
            )}
            <Link href={`/redo?${new URLSearchParams({ server: account.server, account: account.email })}`} className={buttonClass()}>
              Redo history
            </Link>
            <Link href={`/restore?account=${account.id}`} className={buttonClass("primary")}>
              Restore…
            </Link>
          </span>
        }
      />
      {account.statusReason && !account.deletedAt && (
        <p role="alert" className="mb-4 rounded-lg border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-900">
          <strong className="font-semibold">In {account.status}:</strong> {account.statusReason}
        </p>
      )}
      {copyOf && (
        <p role="note" className="mb-4 rounded-lg border border-sky-200 bg-sky-50 px-4 py-3 text-sm text-sky-900">
          A restored copy of <TextLink href={`/accounts/${copyOf.originalAccountId}`}>{copyOf.originalEmail}</TextLink>{" "}
          <FormerNames accountId={copyOf.originalAccountId} shown={copyOf.originalEmail} inSentence />
          {copyOf.emailAtPoint !== copyOf.originalEmail && <> (then {copyOf.emailAtPoint})</>} as of {pointPhrase(copyOf.point)}, made by{" "}
          <TextLink href={`/restores/${encodeURIComponent(copyOf.restoreRun)}`}>{copyOf.restoreRun}</TextLink>. The original was not touched
          {isAdmin ? "; use Copy back to return chosen messages to it." : "."}
          <RemoveCopy accountId={account.id} email={account.email} madeBy={copyOf.requestedBy} />
        </p>
      )}
      <div className="grid gap-4 lg:grid-cols-2">
        <Card title="Account">
          <dl>
            <Field label="Id">
              <code className="font-mono text-xs">{account.id}</code>
            </Field>
            <Field label="Class of service">
              {account.classOfService} (quota {formatQuota(account.quotaBytes)})
            </Field>
            <Field label="Created"><When iso={account.createdAt} /></Field>
            {account.deletedAt && <Field label="Deleted"><When iso={account.deletedAt} /></Field>}
          </dl>
        </Card>
        <Card title={`Names (${account.names.length})`}>
          {former.length === 0 && <p className="mb-2 text-sm text-slate-500">Never renamed.</p>}
          <ol className="space-y-2 border-l border-slate-200 pl-4">
            {account.names.map((n) => (
              <li key={`${n.email}-${n.validFrom}`} className="relative text-sm">
                <span className={`absolute -left-[1.3rem] top-1.5 h-2 w-2 rounded-full ${n.validTo ? "bg-slate-300" : "bg-sky-500"}`} aria-hidden />
                <span className={n.validTo ? "text-slate-600" : "font-medium text-slate-900"}>{n.email}</span>
                <span className="block text-xs text-slate-500">
                  <When iso={n.validFrom} /> – {n.validTo ? <When iso={n.validTo} /> : account.deletedAt ? <>deleted <When iso={account.deletedAt} /></> : "now"}
                </span>
              </li>
            ))}
          </ol>
        </Card>
        <RecoverableWindow accountId={account.id} />
        <Card title="Mailbox" className="lg:col-span-2">
          {mailbox ? (
            <>
              <dl className="mb-4 grid gap-x-8 sm:grid-cols-2">
                <Field label="Mailbox id">
                  {mailbox.id} in group {mailbox.groupId}
                </Field>
                <Field label="Size">
                  {formatBytes(mailbox.sizeBytes)} of {formatQuota(mailbox.quotaBytes)}
                </Field>
                <Field label="Change number">{mailbox.changeNumber.toLocaleString()}</Field>
                <Field label="Last backup">{mailbox.lastBackupAt ? formatDate(mailbox.lastBackupAt) : "never"}</Field>
              </dl>
              <DataGrid label="Folders" framed={false} columns={FOLDER_COLUMNS} rows={mailbox.folders} rowKey={(f) => f.id} />
              {mailbox.tags.length > 0 && (
                <p className="mt-3 flex flex-wrap gap-1.5 text-sm text-slate-600">
                  Tags:
                  {mailbox.tags.map((t) => (
                    <Badge key={t.id}>
                      {t.name} ({t.items})
                    </Badge>
                  ))}
                </p>
              )}
            </>
          ) : (
            <p className="text-sm text-slate-600">
              {account.deletedAt ? "This account is deleted; its mailbox is gone from the server and lives on in backups and redo." : (mailboxError ?? "No mailbox.")}
            </p>
          )}
        </Card>
        <Card title="Messages" className="lg:col-span-2">
          <div id="messages" className="scroll-mt-4">
            <MailExplorer key={`${point?.label ?? ""}|${point?.at ?? ""}`} accountId={account.id} server={account.server} hasMailbox={Boolean(mailbox)} initial={point} />
          </div>
        </Card>
        <RecentDeletions accountId={account.id} server={account.server} email={account.email} />
        <BackupHistory accountId={account.id} />
      </div>
    </>
  );
}
