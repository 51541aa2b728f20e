/**
 * Who may do what. Admins may do everything. Helpdesk staff may read servers, sessions, accounts,
 * jobs and redo, and make two kinds of change, each for one account at a time: a restore into a
 * prefixed copy, and restoring (or downloading) chosen items of a backup. Every API route checks this on the server; the pages only hide what would be refused.
 */
export type Role = "admin" | "helpdesk";

export type Permission =
  | "read"
  | "backup.run"
  | "backup.abort"
  | "backup.delete"
  | "backup.verify"
  | "backup.copy"
  | "targets.manage"
  | "server.settings"
  | "restore.plan"
  | "restore.copy"
  | "restore.any"
  | "restore.abort"
  | "copyback"
  | "items.restore"
  | "items.restore.any"
  | "items.read"
  | "items.download"
  | "redo.archive"
  | "schedules.manage"
  | "users.manage"
  | "audit.read"
  | "server.ping";

// Item reads, restores and downloads name one account per request by construction.
const HELPDESK = new Set<Permission>(["read", "restore.plan", "restore.copy", "items.read", "items.restore", "items.download"]);

export function can(role: Role, permission: Permission): boolean {
  return role === "admin" || HELPDESK.has(permission);
}

/** The one change helpdesk staff may make: one account, into a prefixed copy. */
export function restoreNeeds(request: { accounts?: unknown; copy?: boolean; prefix?: string; group?: unknown }): Permission {
  const oneAccount = Array.isArray(request.accounts) && request.accounts.length === 1;
  return oneAccount && request.copy && request.prefix && request.group === undefined ? "restore.copy" : "restore.any";
}

/**
 * An item restore helpdesk staff may make adds only: into a Recovered folder, skipping what the
 * account has. Back where they were, or replacing what is there, can delete live items: admins'.
 */
export function itemRestoreNeeds(request: { into?: unknown; onConflict?: unknown }): Permission {
  return request.into === "original" || request.onConflict === "replace" ? "items.restore.any" : "items.restore";
}
