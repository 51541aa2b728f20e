/**
 * Retention as a pure function, restic-style: given the sessions and a rule (older than an age,
 * or older than a label), which sessions go and why, and which stay and why.
 *
 * A restore to any point after the cutoff needs, for each account, its newest full snapshot at or
 * before that point plus every session's redo from that full on. So the cutoff is moved back to
 * the oldest "newest full before the first kept session" over all accounts, and nothing after it
 * goes. The newest completed session (and its chain) always stays, even when all are older than
 * the cutoff: retention never leaves a server without a backup. Failed, aborted and interrupted
 * sessions older than the cutoff go; no restore reads them.
 *
 * A lease that must outlive the cutoff (the undo of an in-place restore, kept for days) moves the
 * reach back to its oldest session, so that session and every later one stay until it ends.
 */
import { InvalidInputError } from "../errors.ts";

export interface RetentionSession {
  label: string;
  status: string;
  createdAt: Date;
  /** Accounts this session holds a full snapshot of. */
  fullAccountIds: string[];
}

export type RetentionRule = { olderThan: Date } | { beforeLabel: string };

export interface RetentionPlan {
  cutoff: string;
  remove: { label: string; reason: string }[];
  keep: { label: string; reason: string }[];
}

const AGE = /^(\d+)\s*([dwmy])$/;

/** `7d`, `4w`, `1m`, `1y` before `now` (months and years by the calendar, in UTC). */
export function parseAge(text: string, now: Date): Date {
  const m = AGE.exec(text.trim());
  if (!m) throw new InvalidInputError(`unknown age "${text}": use a number with d, w, m or y (7d, 4w, 1m, 1y), or a session label`);
  const n = Number(m[1]);
  const at = new Date(now);
  if (m[2] === "d") at.setUTCDate(at.getUTCDate() - n);
  if (m[2] === "w") at.setUTCDate(at.getUTCDate() - 7 * n);
  if (m[2] === "m") at.setUTCMonth(at.getUTCMonth() - n);
  if (m[2] === "y") at.setUTCFullYear(at.getUTCFullYear() - n);
  return at;
}

/** A session retention must keep, who needs it and until when. */
export interface RetentionLease {
  label: string;
  holder: string;
  expiresAt: Date;
}

export function planRetention(sessions: RetentionSession[], rule: RetentionRule, leases: RetentionLease[] = []): RetentionPlan {
  const ordered = [...sessions].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.label.localeCompare(b.label));
  let cutoff: Date;
  if ("beforeLabel" in rule) {
    const anchor = ordered.find((s) => s.label === rule.beforeLabel);
    if (!anchor) throw new InvalidInputError(`no session ${rule.beforeLabel} on this server`);
    cutoff = anchor.createdAt;
  } else cutoff = rule.olderThan;

  const completed = ordered.filter((s) => s.status === "completed");
  const firstKept = completed.find((s) => s.createdAt >= cutoff) ?? completed.at(-1);
  // For each account, its newest full at or before the first kept session: the oldest of those
  // is as far back as the kept chain reaches.
  let reach = firstKept?.createdAt ?? cutoff;
  const needed = new Map<string, RetentionSession>();
  if (firstKept) {
    for (const s of completed) {
      if (s.createdAt > firstKept.createdAt) break;
      for (const id of s.fullAccountIds) needed.set(id, s);
    }
    for (const s of needed.values()) if (s.createdAt < reach) reach = s.createdAt;
  }
  const leaseOf = new Map<string, RetentionLease>();
  for (const lease of leases) {
    const s = completed.find((c) => c.label === lease.label);
    if (!s) continue;
    leaseOf.set(s.label, lease);
    if (s.createdAt < reach) reach = s.createdAt;
  }
  const neededBy = new Map<string, number>();
  for (const s of needed.values()) neededBy.set(s.label, (neededBy.get(s.label) ?? 0) + 1);

  const plan: RetentionPlan = { cutoff: cutoff.toISOString(), remove: [], keep: [] };
  for (const s of ordered) {
    if (s.status === "queued" || s.status === "running") plan.keep.push({ label: s.label, reason: `still ${s.status}` });
    else if (s.status !== "completed") {
      if (s.createdAt < cutoff) plan.remove.push({ label: s.label, reason: `${s.status}, older than the cutoff` });
      else plan.keep.push({ label: s.label, reason: `${s.status}, newer than the cutoff` });
    } else if (s.createdAt >= cutoff) plan.keep.push({ label: s.label, reason: "newer than the cutoff" });
    else if (s === firstKept) plan.keep.push({ label: s.label, reason: "the newest backup: a server is never left without one" });
    else if (leaseOf.has(s.label)) {
      const lease = leaseOf.get(s.label)!;
      plan.keep.push({ label: s.label, reason: `leased by ${lease.holder} until ${lease.expiresAt.toISOString().slice(0, 16).replace("T", " ")} UTC` });
    } else if (s.createdAt >= reach) {
      const count = neededBy.get(s.label);
      plan.keep.push({
        label: s.label,
        reason: count ? `holds the newest full of ${count} account(s) that later sessions build on` : "redo between kept full backups and the cutoff",
      });
    } else plan.remove.push({ label: s.label, reason: "older than the cutoff and no kept session builds on it" });
  }
  return plan;
}
