/**
 * Which accounts get a full snapshot in a session: a pure function of the server's accounts and
 * when each last had a completed full backup, so it is unit-tested with stored expectations.
 *   full:         every account (or the ones asked for)
 *   incremental:  only accounts that have no full backup yet (their redo alone cannot restore them)
 *   auto-grouped: accounts never backed up, plus the ~1/N with the oldest full backups; with the
 *                 throttle, never more than ceil(total/N) in one run
 */
export interface Candidate {
  accountId: string;
  email: string;
  lastFullAt: Date | null;
}

export interface Selected {
  accountId: string;
  email: string;
  reason: string;
}

export type Selection =
  | { kind: "full"; requested?: string[] }
  | { kind: "incremental" }
  | { kind: "auto"; groups: number; throttle: boolean };

export function selectAccounts(candidates: Candidate[], selection: Selection): Selected[] {
  const byEmail = [...candidates].sort((a, b) => a.email.localeCompare(b.email));
  switch (selection.kind) {
    case "full": {
      if (!selection.requested?.length) return byEmail.map((c) => ({ accountId: c.accountId, email: c.email, reason: "full backup" }));
      const wanted = new Set(selection.requested.map((e) => e.toLowerCase()));
      return byEmail.filter((c) => wanted.has(c.email)).map((c) => ({ accountId: c.accountId, email: c.email, reason: "requested" }));
    }
    case "incremental":
      return byEmail.filter((c) => c.lastFullAt === null).map((c) => ({ accountId: c.accountId, email: c.email, reason: "no full backup yet" }));
    case "auto": {
      const share = Math.ceil(candidates.length / selection.groups);
      const never = byEmail.filter((c) => c.lastFullAt === null);
      const oldest = byEmail
        .filter((c) => c.lastFullAt !== null)
        .sort((a, b) => a.lastFullAt!.getTime() - b.lastFullAt!.getTime() || a.email.localeCompare(b.email));
      const picked = [
        ...never.map((c) => ({ accountId: c.accountId, email: c.email, reason: "never backed up" })),
        ...oldest.slice(0, share).map((c) => ({ accountId: c.accountId, email: c.email, reason: `oldest full backup (1/${selection.groups} per run)` })),
      ];
      return selection.throttle ? picked.slice(0, share) : picked;
    }
  }
}

/**
 * Splits accounts into child jobs: a few per job when mailboxes are small, at least one job per
 * worker slot. Accounts that are `light` (unchanged since their last full, so their dumps are
 * copied: earlier-dumps.ts) cost a job little each, and go in up to four times larger batches
 * after the others, so an unchanged full pays for fewer jobs.
 */
export function batchAccounts<T>(accounts: T[], slots: number, options: { maxPerBatch?: number; light?: (account: T) => boolean } = {}): T[][] {
  const maxPerBatch = options.maxPerBatch ?? 25;
  const light = options.light ? accounts.filter(options.light) : [];
  const heavy = options.light ? accounts.filter((a) => !options.light!(a)) : accounts;
  return [...split(heavy, slots * 4, maxPerBatch), ...split(light, slots, maxPerBatch * 4)];
}

function split<T>(accounts: T[], batches: number, maxPerBatch: number): T[][] {
  if (accounts.length === 0) return [];
  const per = Math.max(1, Math.min(maxPerBatch, Math.ceil(accounts.length / batches)));
  const out: T[][] = [];
  for (let i = 0; i < accounts.length; i += per) out.push(accounts.slice(i, i + per));
  return out;
}
