/**
 * A server's settings, stored as JSON in the directory and validated here, with every default
 * in one place. Later issues read these (LMTP port, mailbox groups, redo archive limits, backup
 * safety margins), so each field says what it controls.
 */
import { z } from "zod";

/**
 * A second place a server's sessions are copied to (`mailvault copy`): a folder (an absolute
 * path) or an S3 bucket (`s3://bucket/prefix?endpoint=…`). Credentials and passphrases never
 * live here: they come from the environment of the worker that reaches the target.
 */
export const copyTargetSchema = z.object({
  name: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,31}$/, "a target's name is a lowercase letter, then up to 31 lowercase letters, digits and hyphens")
    .refine((name) => name !== "primary", "primary names the server's own backup target"),
  url: z
    .string()
    .min(1)
    .max(1000)
    .refine((url) => url.startsWith("/") || url.startsWith("s3://"), "a target is an absolute folder path or an s3://bucket/prefix URL"),
});

export type CopyTarget = z.infer<typeof copyTargetSchema>;

export const serverSettingsSchema = z.object({
  /** TCP port of this server's LMTP listener, on the worker host. */
  lmtpPort: z.number().int().min(1).max(65535).default(7025),
  /** The address the LMTP listener binds on its worker host (0.0.0.0 or :: to take mail from other hosts). */
  lmtpHost: z.string().min(1).max(255).default("127.0.0.1"),
  /** Number of mailbox groups (schemas mboxgroup1..N); a mailbox lives in group `id mod N`. */
  mailboxGroups: z.number().int().min(1).max(1000).default(100),
  redoArchive: z
    .object({
      /** Seal the current redo log into a segment once it holds this many bytes. */
      maxBytes: z.number().int().positive().default(100 * 1024 * 1024),
      /** ...or once its oldest record is this old; bounds what a lost database loses. */
      maxAgeSeconds: z.number().int().positive().default(60),
    })
    .prefault({}),
  autoGrouped: z
    .object({
      /** Auto-grouped mode: every account gets a full backup once per this many runs. */
      groups: z.number().int().min(1).max(31).default(7),
      /** Never back up more than total/groups accounts in one run. */
      throttle: z.boolean().default(false),
    })
    .prefault({}),
  /** Refuse to start a backup when the target has less free space than this. */
  minFreeBytes: z.number().int().nonnegative().default(1024 * 1024 * 1024),
  minFreePercent: z.number().min(0).max(100).default(5),
  /**
   * Gzip message bodies in the backup target when that saves at least a tenth. Costs CPU on the
   * backup (about 50 MB/s per core); off stores them as they are.
   */
  backupCompression: z.boolean().default(true),
  /**
   * Redo shipping (server/redo/ship-redo.ts): while records wait, a segment is sealed at least
   * this often and sent to every target of the server, so losing the machine loses at most about
   * this much mail. 0 turns shipping off (the redo then leaves the machine with each incremental).
   */
  redoShipSeconds: z.number().int().min(0).max(86_400).default(30),
  /** An RPO (the age of the oldest record no off-machine target holds) above this is flagged. */
  rpoAlertSeconds: z.number().int().min(10).max(7 * 86_400).default(300),
  /**
   * After an in-place restore, the backup sessions its undo would read are leased this many days:
   * retention keeps them (and every later session) until then. 0: no lease.
   */
  undoLeaseDays: z.number().int().min(0).max(366).default(7),
  /** Archived redo segments younger than this stay in the archive after an incremental. */
  redoKeepSeconds: z.number().int().nonnegative().default(3600),
  /** Jobs one worker process runs at once for this server. */
  workerConcurrency: z.number().int().min(1).max(64).default(4),
  /** The targets (the server's own, copy targets) `repo init --encrypt` sealed: they must stay encrypted. */
  encryptedTargets: z.array(z.string().min(1).max(1000)).max(16).default([]),
  /** A server with no completed full backup for longer than this is flagged (dashboard, report mails). */
  fullCycleDays: z.number().int().min(1).max(366).default(7),
  /** Who gets this server's report mails, instead of MAILVAULT_REPORT_TO (empty: those). */
  reportTo: z.array(z.email()).max(20).default([]),
  /** Where `mailvault copy` sends this server's sessions besides its own target, each by name. */
  copyTargets: z
    .array(copyTargetSchema)
    .max(8)
    .default([])
    .refine((targets) => new Set(targets.map((t) => t.name)).size === targets.length, "two copy targets have the same name"),
});

export type ServerSettings = z.infer<typeof serverSettingsSchema>;

export function parseServerSettings(value: unknown): ServerSettings {
  return serverSettingsSchema.parse(value ?? {});
}
