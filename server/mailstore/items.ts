/** The shapes of mailbox items, their fixed system folders and flag bits. */
export type ItemType = "folder" | "message" | "contact" | "tag" | "appointment";

/** System folder ids, fixed in every mailbox (Zimbra uses the same small numbers). */
export const ROOT = 1;
export const INBOX = 2;
export const TRASH = 3;
export const JUNK = 4;
export const SENT = 5;
export const DRAFTS = 6;
export const CONTACTS = 7;

export const SYSTEM_FOLDERS: { id: number; name: string; parentId: number | null }[] = [
  { id: ROOT, name: "", parentId: null },
  { id: INBOX, name: "Inbox", parentId: ROOT },
  { id: TRASH, name: "Trash", parentId: ROOT },
  { id: JUNK, name: "Junk", parentId: ROOT },
  { id: SENT, name: "Sent", parentId: ROOT },
  { id: DRAFTS, name: "Drafts", parentId: ROOT },
  { id: CONTACTS, name: "Contacts", parentId: ROOT },
];

/** User items are numbered from here, as in Zimbra. */
export const FIRST_USER_ID = 256;

export const FLAG = { read: 1, flagged: 2, deleted: 4 } as const;
export type FlagName = keyof typeof FLAG;

export function flagsToNames(bits: number): FlagName[] {
  return (Object.keys(FLAG) as FlagName[]).filter((name) => (bits & FLAG[name]) !== 0);
}

export interface ItemRow {
  mailbox_id: number;
  id: number;
  type: ItemType;
  parent_id: number | null;
  folder_id: number | null;
  date: Date;
  size: number;
  blob_digest: string | null;
  flags: number;
  tags: number[];
  sender: string | null;
  subject: string | null;
  name: string | null;
  metadata: Record<string, unknown>;
  change_number: number;
}

export interface MailboxRow {
  id: number;
  account_id: string;
  group_id: number;
  email: string;
  email_at_creation: string;
  change_number: number;
  item_id_checkpoint: number;
  size_bytes: number;
  quota_bytes: number;
  created_at: Date;
  last_backup_at: Date | null;
  last_redo_seq: number;
}

/**
 * A stored time as ISO 8601 UTC with all six fractional digits: what a redo record carries for a
 * row's `date`, so that replay stores the very value the original row has, not the record's time.
 */
export const exactTime = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
