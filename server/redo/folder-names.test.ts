import { describe, expect, it } from "vitest";
import { FolderNames } from "./folder-names.ts";
import type { RedoRecord } from "./segment-format.ts";

const A = "00000000-0000-4000-8000-00000000000a";
const record = (seq: number, op: string, payload: Record<string, unknown>, accountId = A): RedoRecord => ({
  seq,
  at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
  txid: "1",
  mailboxId: 1,
  accountId,
  changeNumber: seq,
  op,
  payload,
});

describe("FolderNames", () => {
  it("names a folder as it was at a record, from events before or after it", () => {
    const names = new FolderNames();
    names.observe(record(10, "CreateFolder", { itemId: 300, parentId: 2, name: "Projects" }));
    names.observe(record(20, "CreateFolder", { itemId: 301, parentId: 300, name: "2025" }));
    names.observe(record(40, "RenameFolder", { itemId: 300, name: "Old projects", parentId: 1, oldName: "Projects", oldParentId: 2 }));
    expect(names.pathAt(A, 301, 30)).toBe("/Inbox/Projects/2025");
    expect(names.pathAt(A, 301, 50)).toBe("/Old projects/2025");
    expect(names.pathAt(A, 3, 50)).toBe("/Trash");
    expect(names.pathAt("00000000-0000-4000-8000-00000000000b", 300, 30)).toBeNull();
  });

  it("learns from renames, moves and deletions seen after the record, without the folder's creation", () => {
    const names = new FolderNames();
    names.observe(record(60, "RenameFolder", { itemId: 400, name: "Receipts 2024", parentId: 2, oldName: "Receipts", oldParentId: 2 }));
    names.observe(record(70, "MoveItems", { itemIds: [400], folderId: 5, toTrash: false, moved: [{ id: 400, type: "folder", from: 2, name: "Receipts 2024" }] }));
    names.observe(record(80, "DeleteItems", { itemIds: [401], deleted: [{ id: 401, type: "folder", folderId: 400, name: "Taxes" }] }));
    expect(names.pathAt(A, 401, 50)).toBe("/Inbox/Receipts/Taxes");
    expect(names.pathAt(A, 401, 65)).toBe("/Inbox/Receipts 2024/Taxes");
    expect(names.pathAt(A, 401, 75)).toBe("/Sent/Receipts 2024/Taxes");
    expect(names.pathAt(A, 401, 80)).toBe("/Sent/Receipts 2024/Taxes");
  });

  it("marks an ancestor it knows nothing about, and knows nothing of a folder never seen", () => {
    const names = new FolderNames();
    names.observe(record(10, "CreateFolder", { itemId: 501, parentId: 500, name: "Child" }));
    expect(names.pathAt(A, 501, 20)).toBe("/(folder 500)/Child");
    expect(names.pathAt(A, 999, 20)).toBeNull();
    expect(names.pathAt(A, null, 20)).toBeNull();
  });
});
