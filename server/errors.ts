/**
 * Typed errors that carry what a person needs to act. `kind` says whose mistake it is; the API
 * maps it to an HTTP status (app/api/_lib/respond.ts), the CLI to an exit status.
 */
export type ErrorKind = "invalid" | "not_found" | "conflict" | "forbidden" | "unavailable";

export class MailvaultError extends Error {
  constructor(
    readonly kind: ErrorKind,
    /** Stable machine-readable code, e.g. `server_not_found`. */
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class InvalidInputError extends MailvaultError {
  constructor(message: string, details?: unknown) {
    super("invalid", "invalid_input", message, details);
  }
}

export class ServerNotFoundError extends MailvaultError {
  constructor(readonly serverName: string) {
    super("not_found", "server_not_found", `unknown server: ${serverName}`);
  }
}

export class AccountNotFoundError extends MailvaultError {
  constructor(readonly account: string) {
    super("not_found", "account_not_found", `unknown account: ${account}`);
  }
}

export class ServiceUnavailableError extends MailvaultError {
  constructor(service: string, cause: string) {
    super("unavailable", `${service}_unavailable`, `${service} is unavailable: ${cause}`);
  }
}
