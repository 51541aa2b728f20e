import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { describe, expect, it } from "vitest";
import type { ItemChange, SnapshotFold } from "./replay.ts";
import { copyText, snapshotRows } from "./snapshot-rows.ts";

const COLUMNS = ["mailbox_id", "id", "type", "parent_id", "folder_id", "date", "size", "blob_digest", "flags", "tags", "sender", "subject", "name", "metadata", "change_number"];

const row = (mailbox: number, id: number, type: string, parent: string, folder: string, flags: number, name: string, metadata: string, cn: number) =>
  [mailbox, id, type, parent, folder, "2026-12-01 10:00:00+00", 120, "\\N", flags, "{}", "\\N", "hi", name, metadata, cn].join("\t");

const DUMP = [
  row(7, 2, "folder", "1", "\\N", 0, "Inbox", "{}", 1),
  row(7, 300, "folder", "1", "\\N", 0, "Work", "{}", 3),
  row(7, 301, "message", "\\N", "2", 0b101, "\\N", `{"receivedAt": "x"}`, 4),
  row(7, 302, "message", "\\N", "2", 0, "\\N", "{}", 5),
  row(7, 303, "contact", "\\N", "7", 0, "Ana", `{"fields": {"firstName": "Ana"}}`, 6),
  row(7, 304, "message", "\\N", "2", 1, "\\N", "{}", 7),
  row(7, 305, "folder", "1", "\\N", 0, "Réunions 📅 été", "{}", 8),
].join("\n");

const change = (c: Partial<ItemChange> & { changeNumber: number }): ItemChange => ({ clear: 0, set: 0, to: null, name: null, metadata: null, ...c });

/** The dump through the transform, cut into pieces of `size` bytes (rows, and characters of several bytes, split across chunks). */
async function through(columns: string[], fold: SnapshotFold | null, size = 5): Promise<string[]> {
  const bytes = Buffer.from(DUMP);
  const chunks = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  const out = await buffer(Readable.from(chunks).pipe(snapshotRows(42, columns, fold)));
  expect(out.toString().endsWith("\n")).toBe(true);
  return out.toString().slice(0, -1).split("\n");
}

describe("a snapshot's rows on their way in", () => {
  it("take the target mailbox's id and are otherwise left as dumped", async () => {
    const lines = await through(COLUMNS, null);
    expect(lines).toEqual(DUMP.split("\n").map((l) => l.replace(/^7\t/, "42\t")));
  });

  it("go in as the first run of redo leaves them, and rows it deletes do not go in", async () => {
    const changes = new Map<number, ItemChange | "deleted">([
      [300, change({ to: 2, name: "Work\tnew\\old\nline", changeNumber: 20 })], // a folder moved and renamed
      [301, change({ clear: 0b100, set: 0b10, to: 9, changeNumber: 21 })], // a message's flags and folder
      [303, change({ name: "Ben", metadata: JSON.stringify({ fields: { firstName: "Ben", note: 'say "hi"\\' } }), changeNumber: 22 })],
      [304, "deleted"],
    ]);
    const asked: number[] = [];
    const lines = await through(COLUMNS, (id) => (asked.push(id), changes.get(id)));
    expect(asked).toEqual([2, 300, 301, 302, 303, 304, 305]);
    const fields = lines.map((l) => l.split("\t"));
    expect(fields.map((f) => f[1])).toEqual(["2", "300", "301", "302", "303", "305"]);
    expect(fields.every((f) => f[0] === "42" && f.length === COLUMNS.length)).toBe(true);
    // The folder: its parent moves, its folder column stays empty, its name is escaped for COPY.
    expect(fields[1]).toEqual(row(42, 300, "folder", "2", "\\N", 0, "Work\\tnew\\\\old\\nline", "{}", 20).split("\t"));
    // The message: (0b101 & ~0b100) | 0b10, into folder 9.
    expect(fields[2]).toEqual(row(42, 301, "message", "\\N", "9", 0b011, "\\N", `{"receivedAt": "x"}`, 21).split("\t"));
    expect(lines[3]).toBe(row(42, 302, "message", "\\N", "2", 0, "\\N", "{}", 5));
    expect(fields[4]![12]).toBe("Ben");
    expect(fields[4]![13]).toBe(copyText(JSON.stringify({ fields: { firstName: "Ben", note: 'say "hi"\\' } })));
    expect(fields[4]![13]).toContain('\\\\"hi\\\\"\\\\\\\\');
  });

  it("are loaded as dumped when the dump lacks a column the fold rewrites", async () => {
    const older = COLUMNS.filter((c) => c !== "metadata");
    const lines = await through(older, () => {
      throw new Error("asked");
    });
    expect(lines[2]).toBe(row(42, 301, "message", "\\N", "2", 0b101, "\\N", `{"receivedAt": "x"}`, 4));
  });

  it("write text as COPY reads it", () => {
    expect(copyText(null)).toBe("\\N");
    expect(copyText("a\\b\tc\nd\re")).toBe("a\\\\b\\tc\\nd\\re");
    expect(copyText("\\N")).toBe("\\\\N");
  });
});
