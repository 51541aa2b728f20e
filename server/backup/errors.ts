import { MailvaultError } from "../errors.ts";

export class BackupInProgressError extends MailvaultError {
  constructor(readonly label: string) {
    super("conflict", "backup_in_progress", `backup in progress: ${label}`);
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
