import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { encodeHeader, encodeRecord, encodeTrailer, readSegment, readSegmentSpans, SEGMENT_FORMAT, SegmentCorruptError, type RedoRecord, type SegmentFile } from "./segment-format.ts";

/** A segment in memory, read as a file is. */
function memoryFile(bytes: Buffer): SegmentFile {
  return {
    stat: async () => ({ size: bytes.length }),
    read: async (buffer, offset, length, position) => ({ bytesRead: bytes.copy(buffer, offset, position, Math.min(bytes.length, position + length)) }),
  };
}

const record = (seq: number, accountId: string, blob?: string): RedoRecord => ({
  seq, at: "2026-12-06T12:00:00.000Z", txid: "9", mailboxId: 1, accountId, changeNumber: seq, op: blob ? "DeliverMessage" : "SetFlags", payload: { itemIds: [seq], note: "é" }, ...(blob ? { blob: Buffer.from(blob) } : {}),
});

function segment(records: RedoRecord[]): Buffer {
  const header = encodeHeader({ server: "mail1", format: SEGMENT_FORMAT, firstSeq: 1, lastSeq: records.length, firstAt: null, lastAt: null, recordCount: records.length, voids: [], createdAt: "2026-12-06T12:00:00.000Z" });
  const body = Buffer.concat([header, ...records.map(encodeRecord)]);
  return Buffer.concat([body, encodeTrailer(records.length, createHash("sha256").update(body).digest())]);
}

async function spansOf(bytes: Buffer, accountId: string) {
  const spans: { at: number; length: number }[] = [];
  for await (const entry of readSegment("s.log", memoryFile(bytes))) if ("record" in entry && entry.record.accountId === accountId) spans.push({ at: entry.at, length: entry.length });
  return spans;
}

async function readSpans(bytes: Buffer, spans: { at: number; length: number }[], withBlobs: boolean) {
  const out: RedoRecord[] = [];
  for await (const records of readSegmentSpans("s.log", memoryFile(bytes), spans, { withBlobs })) out.push(...records);
  return out;
}

describe("readSegmentSpans", () => {
  const records = [record(1, "a", "message one"), record(2, "b"), record(3, "a"), record(4, "b", "message four"), record(5, "a", "message five")];
  const bytes = segment(records);

  it("gives back the records where a whole read found them, with or without their message bytes", async () => {
    const spans = await spansOf(bytes, "a");
    expect(await readSpans(bytes, spans, true)).toEqual([records[0], records[2], records[4]]);
    expect(await readSpans(bytes, spans, false)).toEqual([records[0]!, records[2]!, records[4]!].map(({ blob: _blob, ...rest }) => rest));
  });

  it("refuses a record with a flipped byte, naming where it starts", async () => {
    const spans = await spansOf(bytes, "b");
    const damaged = Buffer.from(bytes);
    damaged[spans[1]!.at + 20]! ^= 0x01;
    const error = await readSpans(damaged, spans, true).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SegmentCorruptError);
    expect(error).toMatchObject({ offset: spans[1]!.at, reason: "record checksum mismatch" });
  });
});
