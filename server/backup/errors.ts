import { MailvaultError } from "../errors.ts";

export class BackupInProgressError extends MailvaultError {
  constructor(readonly label: string) {
    super("conflict", "backup_in_progress", `backup in progress: ${label}`);
  }
}

/** Retention or a session delete is removing sessions and pruning the target: a backup waits for it. */
export class PruneRunningError extends MailvaultError {
  constructor(server: string, advice = "start the backup again when it is done") {
    super("conflict", "prune_running", `retention is removing sessions of ${server} and pruning its target: ${advice}`);
  }
}

export class InsufficientSpaceError extends MailvaultError {
  constructor(message: string) {
    super("conflict", "insufficient_space", message);
  }
}

export class RedoGapError extends MailvaultError {
  constructor(readonly from: number, readonly to: number) {
    super("conflict", "redo_gap", `gap in redo sequence: missing ${from} through ${to}; take a full backup to start a new chain`);
  }
}

export class SessionNotFoundError extends MailvaultError {
  constructor(label: string) {
    super("not_found", "session_not_found", `no backup session ${label}`);
  }
}

export class SessionLeasedError extends MailvaultError {
  constructor(label: string, holder: string) {
    super("conflict", "session_in_use", `session ${label} is being read by ${holder}; try again when it finishes`);
  }
}

/**
 * A file of a published session that cannot be read back (a flipped byte, a truncated or missing
 * file): names the session, the account it belongs to when there is one, and the file's path on
 * the target, and says how to see everything else that is damaged there.
 */
export class DamagedBackupFileError extends MailvaultError {
  constructor(
    readonly label: string,
    readonly file: string,
    /** What the reader found, e.g. zlib's `incorrect data check`. */
    readonly detail: string,
    /** `email (id)` of the account the file belongs to. */
    readonly account?: string,
  ) {
    super("conflict", "backup_damaged", `session ${label}${account ? `, account ${account}` : ""}: ${file} is damaged: ${detail}; run verify -lb ${label}`);
  }
}
