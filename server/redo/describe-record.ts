/** One line saying what a redo record did, for redodump and the console's redo browser. */
import type { RedoRecord } from "./segment-format.ts";

type P = Record<string, unknown>;

/** Each operation in words, for pages: the record's own name (`DeleteItems`) stays in the API and redodump. */
export const OP_NAMES: Record<string, string> = {
  DeliverMessage: "Message delivered",
  CreateFolder: "Folder created",
  RenameFolder: "Folder renamed or moved",
  MoveItems: "Items moved",
  DeleteItems: "Items deleted",
  SetFlags: "Flags changed",
  TagItems: "Tags changed",
  EmptyFolder: "Folder emptied",
  PurgeOldMessages: "Purged by the retention policy",
  CreateContact: "Contact created",
  ModifyContact: "Contact changed",
  RenameAccount: "Account renamed",
  DeleteMailbox: "Account deleted",
  CreateMailbox: "Account created",
  RestoreMailbox: "Mailbox restored",
};

export const opName = (op: string): string => OP_NAMES[op] ?? op;

function quote(text: unknown): string {
  return typeof text === "string" && text ? `"${text.length > 60 ? `${text.slice(0, 57)}...` : text}"` : "(no subject)";
}

function items(list: unknown): string {
  const entries = (Array.isArray(list) ? list : []) as P[];
  const shown = entries.slice(0, 3).map((d) => (d.type === "message" ? quote(d.subject) : `${String(d.type)} ${d.name ? `"${String(d.name)}"` : String(d.id)}`));
  return shown.join(", ") + (entries.length > 3 ? ` and ${entries.length - 3} more` : "");
}

export function describeRecord(record: Pick<RedoRecord, "op" | "payload">): string {
  const p = record.payload as P;
  switch (record.op) {
    case "CreateMailbox":
      return `created mailbox ${String(p.mailboxId)} for ${String(p.email)} in group ${String(p.groupId)}`;
    case "DeliverMessage":
      return `delivered ${quote(p.subject)} from ${String(p.sender ?? "?")} to folder ${String(p.folderId)} as item ${String(p.itemId)} (${String(p.size)} bytes)`;
    case "CreateFolder":
      return `created folder "${String(p.name)}" (${String(p.itemId)}) in ${String(p.parentId)}`;
    case "RenameFolder":
      return `renamed folder ${String(p.itemId)} "${String(p.oldName)}" to "${String(p.name)}"${p.parentId !== p.oldParentId ? ` under ${String(p.parentId)}` : ""}`;
    case "MoveItems":
      return `moved ${(p.itemIds as unknown[]).length} item(s) to ${p.toTrash ? "Trash" : `folder ${String(p.folderId)}`}: ${items(p.moved)}`;
    case "DeleteItems":
      return `deleted ${(p.deleted as unknown[]).length} item(s): ${items(p.deleted)}`;
    case "EmptyFolder":
      return `emptied folder ${String(p.folderId)}: ${(p.deleted as unknown[]).length} item(s) deleted`;
    case "PurgeOldMessages":
      return `purged ${(p.deleted as unknown[]).length} message(s) older than ${String(p.before)} from folder ${String(p.folderId)}`;
    case "SetFlags":
      return `flags on ${(p.itemIds as unknown[]).length} item(s): set ${String(p.set)} clear ${String(p.clear)}`;
    case "TagItems":
      return `${p.remove ? "untagged" : "tagged"} ${(p.itemIds as unknown[]).length} item(s) "${String(p.tag)}"`;
    case "CreateContact":
    case "ModifyContact":
      return `${record.op === "CreateContact" ? "created" : "modified"} contact ${String(p.itemId)}`;
    case "RenameAccount":
      return `renamed account ${String(p.oldEmail)} to ${String(p.newEmail)}`;
    case "DeleteMailbox":
      return `deleted mailbox ${String(p.mailboxId)} of ${String(p.email)} (${String(p.items)} items)`;
    case "RestoreMailbox":
      return `mailbox reloaded from ${String(p.fromSession)} (through redo ${String(p.throughSeq)})`;
    default:
      return record.op;
  }
}
