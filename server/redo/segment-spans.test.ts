import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";
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

/** A record's frame around `body` as given, with a checksum that matches it. */
function frame(body: Buffer): Buffer {
  const prefix = Buffer.alloc(8);
  prefix.writeUInt32BE(body.length, 0);
  prefix.writeUInt32BE(crc32(body), 4);
  return Buffer.concat([prefix, body]);
}

/** A record whose metadata length or JSON is wrong, inside a frame whose checksum is right. */
function badBody(kind: "length" | "json"): Buffer {
  const meta = Buffer.from(kind === "json" ? '{"seq": 9,' : JSON.stringify({ seq: 9 }));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(kind === "length" ? meta.length + 100 : meta.length);
  return frame(Buffer.concat([length, meta]));
}

function segment(records: (RedoRecord | Buffer)[]): Buffer {
  const header = encodeHeader({ server: "mail1", format: SEGMENT_FORMAT, firstSeq: 1, lastSeq: records.length, firstAt: null, lastAt: null, recordCount: records.length, voids: [], createdAt: "2026-12-06T12:00:00.000Z" });
  const body = Buffer.concat([header, ...records.map((r) => (Buffer.isBuffer(r) ? r : encodeRecord(r)))]);
  return Buffer.concat([body, encodeTrailer(records.length, createHash("sha256").update(body).digest())]);
}

async function spansOf(bytes: Buffer, accountId: string) {
  const spans: { at: number; length: number }[] = [];
  for await (const entry of readSegment("s.log", memoryFile(bytes))) if ("record" in entry && entry.record.accountId === accountId) spans.push({ at: entry.at, length: entry.length });
  return spans;
}

async function readSpans(bytes: Buffer, spans: { at: number; length: number }[], withBlobs: boolean, reads: number[] = []) {
  const out: RedoRecord[] = [];
  const file = memoryFile(bytes);
  const counted: SegmentFile = { stat: file.stat, read: (buffer, offset, length, position) => (reads.push(position), file.read(buffer, offset, length, position)) };
  for await (const records of readSegmentSpans("s.log", counted, spans, { withBlobs })) out.push(...records);
  return out;
}

/** Where a whole read of the segment fails, or null. */
async function wholeReadError(bytes: Buffer) {
  try {
    for await (const _ of readSegment("s.log", memoryFile(bytes))) void _;
    return null;
  } catch (error) {
    return error;
  }
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

  it("reads neighbouring records together and records far apart on their own, and gives them back in order", async () => {
    // 70 KiB of message between the account's records: more than the gap read across.
    const far = [record(1, "a"), record(2, "b", "x".repeat(70 << 10)), record(3, "a"), record(4, "a", "short"), record(5, "b", "y".repeat(70 << 10)), record(6, "a")];
    const farBytes = segment(far);
    const spans = await spansOf(farBytes, "a");
    const reads: number[] = [];
    expect(await readSpans(farBytes, spans, true, reads)).toEqual([far[0], far[2], far[3], far[5]]);
    expect(reads).toEqual([spans[0]!.at, spans[1]!.at, spans[3]!.at]);
  });

  it("refuses a segment cut short under a span it learned, naming where the bytes end", async () => {
    const spans = await spansOf(bytes, "a");
    const cut = bytes.subarray(0, spans[2]!.at + 10);
    const error = await readSpans(cut, spans, true).catch((e: unknown) => e);
    expect(error).toMatchObject({ offset: cut.length, reason: "truncated: a record learned earlier is no longer there" });
  });

  it("refuses a span too short to hold a record rather than reading past it", async () => {
    const [first] = await spansOf(bytes, "a");
    const error = await readSpans(bytes, [{ at: first!.at, length: 10 }], true).catch((e: unknown) => e);
    expect(error).toMatchObject({ offset: first!.at, reason: "implausible record length 10" });
  });

  it("refuses a record whose checksum holds but whose metadata does not, in a whole read and by span", async () => {
    for (const [kind, reason] of [["length", "implausible metadata length"], ["json", "metadata is not valid JSON"]] as const) {
      const damaged = segment([record(1, "a"), badBody(kind), record(3, "a")]);
      const whole = await wholeReadError(damaged);
      expect(whole).toBeInstanceOf(SegmentCorruptError);
      expect(whole).toMatchObject({ reason: `record 2: ${reason}` });
      const at = (whole as SegmentCorruptError).offset;
      expect(at).toBe(damaged.indexOf(badBody(kind)));
      const error = await readSpans(damaged, [{ at, length: badBody(kind).length }], false).catch((e: unknown) => e);
      expect(error).toMatchObject({ offset: at, reason });
    }
  });
});
