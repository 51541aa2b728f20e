/**
 * The lines a job writes to its log (the Jobs page shows them): what happened, in words an
 * administrator reads, per account or per session.
 */
import type { SessionCopyReport } from "../backup/copy-sessions.ts";
import type { AccountOutcome } from "../backup/run-session.ts";
import type { AccountOutcome as RestoreOutcome } from "../restore/run-restore.ts";

export function mib(bytes: number): string {
  return bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

/**
 * A backup batch's lines: one per account that was dumped, failed or skipped, and one for all
 * its unchanged accounts (their dumps named from an earlier full, no new blob, none missing),
 * which on a quiet server are nearly all of them.
 */
export function backupLines(outcomes: AccountOutcome[], accounts: { accountId: string; email: string }[]): string[] {
  const emails = new Map(accounts.map((a) => [a.accountId, a.email]));
  const lines: string[] = [];
  const unchangedSince = new Set<string>();
  let unchanged = 0;
  for (const outcome of outcomes) {
    if ("files" in outcome && outcome.dumpsFrom && outcome.newBlobs === 0 && outcome.missingBlobs.length === 0) {
      unchanged++;
      unchangedSince.add(outcome.dumpsFrom);
    } else lines.push(backupLine(outcome, emails));
  }
  if (unchanged) lines.push(`${unchanged} account(s) unchanged since ${[...unchangedSince].join(", ")}: their dumps named, not written again`);
  return lines;
}

function backupLine(outcome: AccountOutcome, emails: Map<string, string>): string {
  if ("files" in outcome) {
    const missing = outcome.missingBlobs.length ? `; ${outcome.missingBlobs.length} blob(s) missing from the volume` : "";
    return `${outcome.email}: full snapshot (${outcome.reason}), ${outcome.items} items, ${mib(outcome.blobBytes)}, ${outcome.newBlobs} new blob(s)${missing}`;
  }
  const email = emails.get(outcome.accountId) ?? outcome.accountId;
  return "error" in outcome ? `${email}: failed: ${outcome.error}` : `${email}: skipped (${outcome.skipped})`;
}

export function restoreLine(outcome: RestoreOutcome): string {
  if ("error" in outcome) return `${outcome.requested}: failed: ${outcome.error}`;
  if ("skipped" in outcome && typeof outcome.skipped === "string") return `${outcome.requested}: skipped (${outcome.skipped})`;
  const r = outcome as Exclude<RestoreOutcome, { error: string } | { skipped: string }>;
  const gaps = r.gaps.length ? `; redo gaps ${r.gaps.map((g) => `${g.from}-${g.to}`).join(", ")}` : "";
  const into = r.target === r.requested ? "in place" : `into ${r.target}`;
  return `${r.requested}: restored ${into}: ${r.snapshotItems} items from the snapshot, ${r.replayed} redo records replayed (${r.skipped} skipped), ${r.blobsCopied} blob(s) brought back${gaps}`;
}

export function copyLine(report: SessionCopyReport, to: string): string {
  if (report.status === "present") return `${report.label}: already on ${to}`;
  const sent = `${report.packsSent} pack(s) sent, ${report.packsPresent} already there, ${report.files} file(s), ${mib(report.bytesSent)}`;
  return report.status === "copied" ? `${report.label}: copied to ${to} and verified there (${sent})` : `${report.label}: copy to ${to} FAILED verification, unpublished there: ${report.problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`;
}
