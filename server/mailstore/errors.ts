import { MailvaultError } from "../errors.ts";

export class MailboxNotFoundError extends MailvaultError {
  constructor(what: string) {
    super("not_found", "mailbox_not_found", `no mailbox for ${what} on this server`);
  }
}

export class ItemNotFoundError extends MailvaultError {
  constructor(readonly itemId: number, kind = "item") {
    super("not_found", `${kind}_not_found`, `no ${kind} ${itemId} in this mailbox`);
  }
}

export class InvalidOperationError extends MailvaultError {
  constructor(code: string, message: string) {
    super("invalid", code, message);
  }
}

export class FolderExistsError extends MailvaultError {
  constructor(name: string) {
    super("conflict", "folder_exists", `a folder named "${name}" already exists there`);
  }
}

export class QuotaExceededError extends MailvaultError {
  constructor(readonly email: string, readonly needed: number, readonly quota: number) {
    super("invalid", "quota_exceeded", `${email} is over quota: ${needed} bytes needed, quota ${quota}`);
  }
}

export class MailboxExistsError extends MailvaultError {
  constructor(email: string) {
    super("conflict", "mailbox_exists", `a mailbox for ${email} already exists`);
  }
}

/** The mailstore database or blob volume cannot be used right now (LMTP answers 452). */
export class StoreUnavailableError extends MailvaultError {
  constructor(server: string, cause: string) {
    super("unavailable", "store_unavailable", `the mailstore of ${server} is unavailable: ${cause}`);
  }
}
