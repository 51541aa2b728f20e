/**
 * Where the redo still holds the `CreateMailbox` record of accounts that have no full backup to
 * restore from. With it, and every record after it, such an account is rebuilt from redo alone.
 * The search reads the backup sessions' segments, then the server's archive and current log,
 * skipping by each segment's header every segment that ends before the accounts were created
 * (an hour of slack covers clocks of the two databases that disagree), and stops as soon as every
 * account is found. A session segment that cannot be read is passed over with a warning in the
 * log (verify names it): the creation may still be found elsewhere, and the restore that needs
 * that segment fails on it by name.
 */
import { sessionSegmentError } from "../backup/read-session-files.ts";
import type { BackupTarget } from "../backup/target.ts";
import { logger } from "../logger.ts";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { headerCanMatch, matches, readRedo, type RedoFilter } from "../redo/read-redo.ts";
import { readSegment, type RedoRecord } from "../redo/segment-format.ts";
import type { MailboxCreation } from "./plan-restore.ts";

const CLOCK_SLACK_MS = 60 * 60 * 1000;

async function* sessionRecords(target: BackupTarget, label: string, filter: RedoFilter): AsyncGenerator<RedoRecord> {
  for (const segment of await target.sessionSegments(label)) {
    const where = target.describe(segment.object);
    const found: RedoRecord[] = [];
    try {
      for await (const entry of readSegment(segment.name, target.segmentReader(segment.object))) {
        if ("header" in entry) {
          if (!headerCanMatch(entry.header, filter)) break;
          continue;
        }
        if (matches(entry.record, filter)) found.push(entry.record);
      }
    } catch (error) {
      logger.warn({ err: (sessionSegmentError(label, where, error) as Error).message }, "looking for mailbox creations: a session segment was passed over");
      continue;
    }
    yield* found;
  }
}

export async function findMailboxCreations(options: {
  store: Mailstore;
  target: BackupTarget;
  /** Labels of the completed sessions that hold redo, oldest first. */
  sessions: string[];
  accounts: { accountId: string; createdAt: Date }[];
}): Promise<Map<string, MailboxCreation>> {
  const found = new Map<string, MailboxCreation>();
  if (options.accounts.length === 0) return found;
  const since = new Date(Math.min(...options.accounts.map((a) => a.createdAt.getTime())) - CLOCK_SLACK_MS);
  const filter: RedoFilter = { accountIds: options.accounts.map((a) => a.accountId), ops: ["CreateMailbox"], fromTime: since };
  const take = (r: RedoRecord) => {
    if (!found.has(r.accountId)) found.set(r.accountId, { seq: r.seq, at: new Date(r.at), quotaBytes: Number(r.payload.quotaBytes ?? 0) });
    return found.size === options.accounts.length;
  };
  for (const label of options.sessions) {
    for await (const r of sessionRecords(options.target, label, filter)) if (take(r)) return found;
  }
  for await (const r of readRedo(options.store, filter)) if (take(r)) return found;
  return found;
}
