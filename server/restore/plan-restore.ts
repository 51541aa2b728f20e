/**
 * The restore plan: a pure function of what the catalog, the directory and the redo archive
 * say, and of the request. It is shown before anything runs (`restore --plan`, `dryRun`),
 * stored with the run, and executed as it is. It resolves each account by any name it had (by
 * the time asked for when a name passed between accounts), picks the restore point (the earliest
 * of those given), the newest usable full snapshot (or the one named with -lb), the redo that
 * must be replayed after it (sessions, then the server's archive, then its current log), the
 * target (in place, or a prefixed copy), and what each option changes. Contradictions are
 * refused with every reason at once; options that change nothing in this plan are warned about.
 *
 * An account with no usable full backup (created after the last one, say) is built from redo
 * alone when the redo still holds its `CreateMailbox` record and every record after it: the
 * replay then starts from an empty mailbox. The plan says so; nothing is skipped in silence.
 */

export interface PlanSession {
  label: string;
  type: "full" | "incremental";
  createdAt: Date;
  /** When its redo was sealed (the session's start). */
  startedAt: Date;
  redoFromSeq: number | null;
  redoThroughSeq: number;
  /** The full snapshots it holds, by account; `items`: the rows of the snapshot, when known. */
  fulls: Map<string, { email: string; changeNumber: number; lastRedoSeq: number; snapshotAt: Date; items?: number }>;
  /** backup --exclude-blobs: metadata only; the message bodies must be on the blob volume. */
  excludeBlobs?: boolean;
  /** Its last verify found damage: when, and the first problem (the plan warns before using it). */
  damaged?: { at: Date; first: string };
}

export interface PlanAccountCandidate {
  accountId: string;
  server: string;
  currentEmail: string;
  createdAt: Date;
  deletedAt: Date | null;
  /** The name that matched the request, and when it was this account's. */
  name: { email: string; validFrom: Date; validTo: Date | null };
}

export interface PlanInputs {
  now: Date;
  /** Per requested name: every account that ever had it. Empty: unknown name. */
  candidates: Map<string, PlanAccountCandidate[]>;
  /** Completed sessions of the server, any order. */
  sessions: PlanSession[];
  /** The server's redo archive and current log. */
  archive: { segments: { firstSeq: number; lastSeq: number }[]; lastArchivedSeq: number };
  currentLog: { firstSeq: number; lastSeq: number } | null;
  /** Live emails, to refuse a prefixed copy whose name is taken. */
  liveEmails: Set<string>;
  /**
   * The `CreateMailbox` record of accounts the loader looked for (those with no full backup at
   * or before the point), wherever the redo still holds it: a backup session, the archive or
   * the current log. Missing: not looked for, or no longer held.
   */
  creations?: Map<string, MailboxCreation>;
}

export interface MailboxCreation {
  seq: number;
  at: Date;
  quotaBytes: number;
}

export interface RestoreRequest {
  server: string;
  accounts: string[];
  restoreToTime?: Date;
  restoreToRedoSeq?: number;
  restoreToIncrLabel?: string;
  label?: string;
  copy?: boolean;
  prefix?: string;
  backupOnlyRedo?: boolean;
  noRedo?: boolean;
  skipDeletes?: boolean;
  ignoreRedoErrors?: boolean;
  continueOnError?: boolean;
  skipDeletedAccounts?: boolean;
  excludeBlobs?: boolean;
  /** Build from redo alone, from the `CreateMailbox` record, even where a full exists (a drill's second path). */
  fromCreate?: boolean;
}

export interface AccountPlan {
  requested: string;
  accountId: string;
  chosenBecause: string;
  emailAtPoint: string;
  currentEmail: string;
  deleted: boolean;
  /** The full backup the mailbox is loaded from; null when it is built from redo alone. */
  /** `items`: the snapshot's rows, when known (restore batches are cut by them). */
  snapshot: { session: string; changeNumber: number; lastRedoSeq: number; snapshotAt: string; items?: number } | null;
  /** Built from redo alone: replay starts at this `CreateMailbox` record, into an empty mailbox. */
  fromCreate: { seq: number; at: string; quotaBytes: number } | null;
  redo: {
    sessions: { label: string; fromSeq: number; throughSeq: number }[];
    archive: { afterSeq: number; throughSeq: number } | null;
    currentLog: boolean;
    /** Replay stops before the first record past either bound. */
    untilSeq: number | null;
    untilTime: string | null;
    /** Stop before the record that deleted the mailbox (a deleted account restored to "latest"). */
    stopBeforeDeletion: boolean;
    /** How many recorded changes the replay applies: counted from the redo for small plans (submit-restore.ts), absent otherwise. */
    changes?: number;
  };
  /** scratch: a mailbox no account owns (a drill's), removed when the drill has compared it. */
  target: { mode: "in-place" | "copy" | "scratch"; email: string };
  gaps: { from: number; to: number }[];
}

/** The backup sessions an account's restore reads: its snapshot's and those its redo comes from. */
export function planSessions(account: Pick<AccountPlan, "snapshot" | "redo">): string[] {
  return [...new Set([...(account.snapshot ? [account.snapshot.session] : []), ...account.redo.sessions.map((s) => s.label)])];
}

export interface RestorePlan {
  server: string;
  point: {
    description: string;
    seq: number | null;
    time: string | null;
    /** The point in the caller's terms, when it lies just before a deletion: "2026-12-01 14:52 UTC, just before folder /Inbox/Projects was deleted". */
    justBefore?: string;
    /** When that deletion was recorded (ISO), so a page can add the reader's local time. */
    justBeforeAt?: string;
  };
  accounts: AccountPlan[];
  /**
   * Accounts left out: by choice (--skipDeletedAccounts), or because they cannot be restored
   * (`unrestorable`, with -c): a run that leaves one out that way has not restored everything.
   */
  skipped: { requested: string; reason: string; accountId?: string; unrestorable?: boolean }[];
  options: { name: string; effect: string }[];
  warnings: string[];
}

export class RestorePlanError extends Error {
  readonly code = "restore_refused";
  constructor(
    readonly reasons: string[],
    /** When the only trouble is copy names already taken: a prefix whose names are all free. */
    readonly suggestedPrefix?: string,
  ) {
    super(reasons.join("; "));
  }
}

/**
 * A prefix like `wanted` under which every copy name is free: restore2_, restore3_ … restore9_,
 * then one with today's date (restore-20261203_), then with the time too.
 */
export function freeCopyPrefix(wanted: string, emails: string[], taken: Set<string>, now: Date): string | undefined {
  const stem = wanted.replace(/[_.-]+$/, "") || "restore";
  const stamp = now.toISOString().replace(/[-:]/g, "").slice(0, 13).replace("T", "-"); // 20261203-1452
  const candidates = [...Array.from({ length: 8 }, (_, i) => `${stem}${i + 2}_`), `${stem}-${stamp.slice(0, 8)}_`, `${stem}-${stamp}_`];
  return candidates.find((prefix) => emails.every((email) => !taken.has(prefixed(prefix, email))));
}

const ACCOUNT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The copy's email: addresses are kept in lower case, so `Restore_` names the same copy as `restore_`. */
function prefixed(prefix: string, email: string): string {
  const [local, domain] = email.split("@");
  return `${prefix}${local}@${domain}`.toLowerCase();
}

export function planRestore(inputs: PlanInputs, request: RestoreRequest): RestorePlan {
  const refuse: string[] = [];
  let namesTaken = 0;
  const warnings: string[] = [];
  const sessions = [...inputs.sessions].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());

  if (request.copy && !request.prefix) refuse.push("-ca (restore into a copy) needs -pre <prefix> to name the copy");
  if (request.prefix && !request.copy) refuse.push("-pre <prefix> names a copy: add -ca, or leave out -pre to restore in place");
  if (request.prefix && !/^[a-z0-9._+-]{1,40}$/i.test(request.prefix)) refuse.push(`invalid prefix "${request.prefix}": letters, digits and . _ + - only`);
  if (request.noRedo && request.backupOnlyRedo) refuse.push("-rf replays no redo and -br replays only backed-up redo: choose one");
  if (request.accounts.length === 0) refuse.push("name at least one account (-a), or -a all");

  // The point: every bound given applies, so the earliest wins.
  let incr: PlanSession | undefined;
  if (request.restoreToIncrLabel) {
    incr = sessions.find((s) => s.label === request.restoreToIncrLabel);
    if (!incr) refuse.push(`no completed session ${request.restoreToIncrLabel} on ${request.server}`);
    else if (incr.type !== "incremental") refuse.push(`${request.restoreToIncrLabel} is a full backup, not an incremental: use -lb for a full`);
  }
  const seqBounds = [request.restoreToRedoSeq, incr?.redoThroughSeq].filter((v): v is number => v !== undefined);
  const untilSeq = seqBounds.length ? Math.min(...seqBounds) : null;
  const untilTime = request.restoreToTime ?? null;
  if (untilTime && untilTime > inputs.now) refuse.push(`the restore time ${untilTime.toISOString()} is in the future`);
  const given = [request.restoreToTime && "time", request.restoreToRedoSeq !== undefined && "redo sequence", request.restoreToIncrLabel && "incremental label"].filter(Boolean);
  const pointDescription =
    given.length === 0 ? (request.noRedo ? "the full backup itself (-rf)" : "the latest committed change") : given.length === 1 ? `the ${given[0]} given` : `${given.join(" and ")} (the earliest wins)`;
  if (given.length > 1) warnings.push(`several restore points were given: replay stops at whichever comes first`);

  const labelSession = request.label ? sessions.find((s) => s.label === request.label) : undefined;
  if (request.label && !labelSession) refuse.push(`no completed session ${request.label} on ${request.server}`);

  const accounts: AccountPlan[] = [];
  const skipped: RestorePlan["skipped"] = [];
  for (const asked of request.accounts) {
    const candidates = inputs.candidates.get(asked) ?? [];
    if (candidates.length === 0) {
      refuse.push(`no account has ever been named ${asked}`);
      continue;
    }
    // A name that passed from one account to another means the one that had it at the point.
    const at = untilTime ?? inputs.now;
    const newestFirst = (a: PlanAccountCandidate, b: PlanAccountCandidate) => b.name.validFrom.getTime() - a.name.validFrom.getTime();
    const holders = candidates.filter((c) => c.name.validFrom <= at && (c.name.validTo === null || c.name.validTo > at));
    const pick = [...holders].sort(newestFirst)[0] ?? [...candidates].sort(newestFirst)[0]!;
    // An account chosen by its id (the console does) is named by its email from here on.
    const byId = ACCOUNT_ID.test(asked);
    const requested = byId ? pick.name.email : asked;
    // Chosen on its page (by id), it is simply the account: named as a name would have named it.
    const chosenBecause =
      byId || candidates.length === 1
        ? pick.currentEmail === requested ? "its current name" : `formerly ${requested} (now ${pick.currentEmail})`
        : `${requested} belonged to ${candidates.length} accounts over time; at the point it was ${pick.accountId} (now ${pick.currentEmail}${pick.deletedAt ? ", deleted" : ""})`;
    if (pick.deletedAt && request.skipDeletedAccounts) {
      skipped.push({ requested, reason: `deleted ${pick.deletedAt.toISOString()} (--skipDeletedAccounts)` });
      continue;
    }
    if (untilTime && untilTime < pick.createdAt) {
      refuse.push(`${requested} did not exist yet at ${untilTime.toISOString()} (created ${pick.createdAt.toISOString()})`);
      continue;
    }

    const usable = (s: PlanSession) => {
      const f = s.fulls.get(pick.accountId);
      if (!f) return false;
      if (untilTime && f.snapshotAt > untilTime) return false;
      if (untilSeq !== null && f.lastRedoSeq > untilSeq) return false;
      if (incr && s.createdAt > incr.createdAt) return false;
      return true;
    };
    if (incr && labelSession && incr.createdAt < labelSession.createdAt) {
      refuse.push(`${incr.label} is not after ${labelSession.label}, the full backup of ${requested} it would build on`);
      continue;
    }
    const full = request.fromCreate ? undefined : labelSession ? (usable(labelSession) ? labelSession : undefined) : [...sessions].reverse().find(usable);
    // No full to start from: the mailbox's whole history in redo will do, from its creation on.
    const creation = inputs.creations?.get(pick.accountId);
    const fromCreate =
      !full && !labelSession && !request.noRedo && creation && (untilSeq === null || creation.seq <= untilSeq) && (untilTime === null || creation.at <= untilTime)
        ? creation
        : undefined;
    if (!full && !fromCreate) {
      const why = request.fromCreate
        ? `the redo no longer holds the creation of ${requested}: it cannot be built from redo alone`
        : labelSession
        ? labelSession.fulls.has(pick.accountId)
          ? `${request.label}'s snapshot of ${requested} is after the restore point`
          : `${request.label} holds no full backup of ${requested}`
        : `no full backup of ${requested} at or before the restore point${request.noRedo ? "" : ", and the redo no longer holds its creation"}`;
      if (request.continueOnError) skipped.push({ requested, reason: why, accountId: pick.accountId, unrestorable: true });
      else refuse.push(why);
      continue;
    }
    const snap = full?.fulls.get(pick.accountId);
    if (full && snap && request.noRedo && (untilTime || untilSeq !== null)) {
      const beyond = (untilTime && untilTime > snap.snapshotAt) || (untilSeq !== null && untilSeq > snap.lastRedoSeq);
      if (beyond) refuse.push(`-rf replays nothing, but the restore point is after ${full.label}'s snapshot of ${requested}: drop -rf or the point`);
    }

    // Redo after the snapshot (or from the creation on): the sessions that follow, in a chain
    // without holes.
    const chain: AccountPlan["redo"]["sessions"] = [];
    const gaps: { from: number; to: number }[] = [];
    let through = full ? full.redoThroughSeq : fromCreate!.seq - 1;
    if (!request.noRedo) {
      for (const s of sessions) {
        if (s.redoFromSeq === null) continue;
        if (full ? s.createdAt <= full.createdAt : s.redoThroughSeq < fromCreate!.seq) continue;
        if (incr && s.createdAt > incr.createdAt) break;
        if (untilSeq !== null && s.redoFromSeq > untilSeq) break;
        if (untilTime && chain.length && sessions.find((x) => x.label === chain.at(-1)!.label)!.startedAt > untilTime) break;
        if (s.redoFromSeq > through + 1) gaps.push({ from: through + 1, to: s.redoFromSeq - 1 });
        chain.push({ label: s.label, fromSeq: s.redoFromSeq, throughSeq: s.redoThroughSeq });
        through = Math.max(through, s.redoThroughSeq);
      }
    }
    const lastSealed = chain.length ? sessions.find((x) => x.label === chain.at(-1)!.label)!.startedAt : full ? full.startedAt : fromCreate!.at;
    const needsLive = !request.noRedo && !incr && (untilSeq === null || untilSeq > through) && (untilTime === null || untilTime > lastSealed);
    let archive: AccountPlan["redo"]["archive"] = null;
    let currentLog = false;
    if (needsLive && request.backupOnlyRedo) {
      warnings.push(`${requested}: -br replays only backed-up redo, through ${through}; later changes in the archive and current log are left out`);
    } else if (needsLive) {
      const segments = inputs.archive.segments.filter((s) => s.lastSeq > through).sort((a, b) => a.firstSeq - b.firstSeq);
      let next = through + 1;
      for (const seg of segments) {
        if (seg.firstSeq > next) gaps.push({ from: next, to: seg.firstSeq - 1 });
        next = Math.max(next, seg.lastSeq + 1);
      }
      const archivedThrough = Math.max(through, inputs.archive.lastArchivedSeq);
      if (next <= archivedThrough) gaps.push({ from: next, to: archivedThrough });
      if (segments.length) archive = { afterSeq: through, throughSeq: archivedThrough };
      currentLog = true;
    }
    if (gaps.length && !request.ignoreRedoErrors) {
      const g = gaps[0]!;
      const message = `gap in redo sequence: missing ${g.from} through ${g.to}`;
      if (request.continueOnError) skipped.push({ requested, reason: message, accountId: pick.accountId, unrestorable: true });
      else refuse.push(`${message} (${requested}); --ignoreRedoErrors replays around it and reports it`);
      continue;
    }

    const copy = Boolean(request.copy && request.prefix);
    const targetEmail = copy ? prefixed(request.prefix!, pick.name.email) : pick.currentEmail;
    if (copy && inputs.liveEmails.has(targetEmail)) {
      refuse.push(`${targetEmail} already exists: choose another prefix or remove that account`);
      namesTaken++;
    }
    if (!copy && pick.deletedAt && inputs.liveEmails.has(pick.currentEmail)) {
      refuse.push(`${requested} was deleted and its name ${pick.currentEmail} now belongs to another account: restore it into a copy (-ca -pre)`);
    }
    accounts.push({
      requested,
      accountId: pick.accountId,
      chosenBecause,
      emailAtPoint: pick.name.email,
      currentEmail: pick.currentEmail,
      deleted: pick.deletedAt !== null,
      snapshot: full && snap ? { session: full.label, changeNumber: snap.changeNumber, lastRedoSeq: snap.lastRedoSeq, snapshotAt: snap.snapshotAt.toISOString(), ...(snap.items === undefined ? {} : { items: snap.items }) } : null,
      fromCreate: fromCreate ? { seq: fromCreate.seq, at: fromCreate.at.toISOString(), quotaBytes: fromCreate.quotaBytes } : null,
      redo: {
        sessions: chain,
        archive,
        currentLog,
        untilSeq,
        untilTime: untilTime?.toISOString() ?? null,
        stopBeforeDeletion: pick.deletedAt !== null && !untilTime && untilSeq === null,
      },
      target: { mode: copy ? "copy" : "in-place", email: targetEmail },
      gaps,
    });
  }
  if (refuse.length) {
    const onlyNames = namesTaken === refuse.length;
    throw new RestorePlanError(refuse, onlyNames ? freeCopyPrefix(request.prefix!, accounts.map((a) => a.emailAtPoint), inputs.liveEmails, inputs.now) : undefined);
  }

  const options: RestorePlan["options"] = [];
  const anyRedo = accounts.some((a) => a.redo.sessions.length || a.redo.archive || a.redo.currentLog);
  if (request.copy) options.push({ name: `-ca -pre ${request.prefix}`, effect: "restores into new accounts named with the prefix; the originals are not touched" });
  else options.push({ name: "in place", effect: "each account goes into maintenance, its mailbox is emptied and reloaded, then it is active again" });
  if (request.noRedo) options.push({ name: "-rf", effect: "no redo replayed: each account as its full backup holds it" });
  if (request.backupOnlyRedo) options.push({ name: "-br", effect: "only redo held by backup sessions is replayed" });
  if (request.skipDeletes) options.push({ name: "--skipDeletes", effect: "deletions, mailbox deletion, folder emptying, purges and moves into Trash are not replayed" });
  if (request.ignoreRedoErrors) options.push({ name: "--ignoreRedoErrors", effect: "a gap in the redo is replayed around and reported" });
  if (request.continueOnError) options.push({ name: "-c", effect: "an account that fails does not stop the others; failures are listed at the end" });
  if (request.excludeBlobs) options.push({ name: "--exclude-blobs", effect: "message bodies are not copied from the backup: they must already be in the blob volume" });
  if (request.skipDeletedAccounts) options.push({ name: "--skipDeletedAccounts", effect: "deleted accounts are left out" });

  if (request.skipDeletes && !anyRedo) warnings.push("--skipDeletes has no effect: no redo is replayed");
  if (request.ignoreRedoErrors && accounts.every((a) => a.gaps.length === 0)) warnings.push("--ignoreRedoErrors has no effect: the redo has no gap");
  if (request.backupOnlyRedo && !warnings.some((w) => w.includes("-br replays only"))) warnings.push("-br has no effect: the restore point is covered by backed-up redo");
  if (request.continueOnError && request.accounts.length === 1) warnings.push("-c has no effect with a single account");
  if (request.skipDeletedAccounts && skipped.length === 0) warnings.push("--skipDeletedAccounts has no effect: none of the accounts is deleted");
  if (request.label && request.noRedo === undefined && !given.length) warnings.push(`-lb ${request.label}: the full backup named is used, and redo after it replayed to the latest change`);
  for (const a of accounts) {
    if (a.fromCreate) warnings.push(`${a.requested}: no full backup at or before the point; rebuilt from redo alone, from its creation (redo ${a.fromCreate.seq}) on`);
  }
  // A session whose last verify found damage is still used (it may be the only way back), but said so.
  const used = new Set(accounts.flatMap((a) => planSessions(a)));
  for (const s of inputs.sessions) {
    if (s.damaged && used.has(s.label)) {
      warnings.push(`${s.label} failed its last verify (${s.damaged.at.toISOString().slice(0, 16).replace("T", " ")} UTC: ${s.damaged.first}): the restore may fail on it; verify it again, or choose a point that does not need it`);
    }
  }
  for (const a of accounts) if (a.gaps.length) warnings.push(`${a.requested}: gap in redo sequence: missing ${a.gaps[0]!.from} through ${a.gaps[0]!.to}; replayed around it`);

  return {
    server: request.server,
    point: { description: pointDescription, seq: untilSeq, time: untilTime?.toISOString() ?? null },
    accounts,
    skipped,
    options,
    warnings,
  };
}
