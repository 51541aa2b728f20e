/**
 * The redo segment file: a sealed, self-checking run of redo records.
 *
 *   "MVREDO01"                     8 bytes
 *   u32 header length, header JSON (server, format, first/last seq and time, record count, voids)
 *   u32 CRC32 of the header JSON
 *   records, each:  u32 body length, u32 CRC32 of body, body
 *                   body = u32 meta length, meta JSON (seq, time, mailbox, ...), message bytes
 *   "MVRDEND1", u32 record count, 32-byte SHA-256 of every byte before "MVRDEND1"
 *
 * All integers are big-endian. A segment covers the contiguous sequence range [firstSeq, lastSeq];
 * the numbers in it that have no record are listed in `voids` (a transaction drew them and
 * rolled back), so the segments of an archive tile the sequence space and any other missing
 * number is a real loss. Any flipped byte fails a CRC or the digest, reported with its offset.
 */
import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";

export const SEGMENT_MAGIC = Buffer.from("MVREDO01");
export const TRAILER_MAGIC = Buffer.from("MVRDEND1");
export const SEGMENT_FORMAT = 1;

export interface RedoRecord {
  seq: number;
  /** Commit-time wall clock of the record, ISO 8601 UTC. */
  at: string;
  txid: string;
  mailboxId: number;
  accountId: string;
  changeNumber: number;
  op: string;
  payload: Record<string, unknown>;
  blob?: Buffer;
}

export interface SegmentHeader {
  server: string;
  format: number;
  firstSeq: number;
  lastSeq: number;
  firstAt: string | null;
  lastAt: string | null;
  recordCount: number;
  /** Inclusive ranges of sequence numbers inside [firstSeq, lastSeq] with no record. */
  voids: [number, number][];
  createdAt: string;
}

export class SegmentCorruptError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`${file} at byte ${offset}: ${reason}`);
  }
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0);
  return b;
}

export function encodeHeader(header: SegmentHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  return Buffer.concat([SEGMENT_MAGIC, u32(json.length), json, u32(crc32(json))]);
}

export function encodeRecord(record: RedoRecord): Buffer {
  const { blob, ...meta } = record;
  return encodeRawRecord(Buffer.from(JSON.stringify(meta)), blob ?? null);
}

/** A record from its metadata JSON as bytes (already in the segment's shape) and its message bytes. */
export function encodeRawRecord(metaJson: Buffer, blob: Buffer | null): Buffer {
  const body = Buffer.concat([u32(metaJson.length), metaJson, blob ?? Buffer.alloc(0)]);
  return Buffer.concat([u32(body.length), u32(crc32(body)), body]);
}

export function encodeTrailer(recordCount: number, digest: Buffer): Buffer {
  return Buffer.concat([TRAILER_MAGIC, u32(recordCount), digest]);
}

/** What the reader needs of a segment: its size and positioned reads (a FileHandle, or an object of a backup target). */
export interface SegmentFile {
  stat(): Promise<{ size: number }>;
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
}

/** Sequential reads over a file handle with a buffer, keeping the offset for error reports. */
class FileCursor {
  private buffer = Buffer.alloc(0);
  private bufferStart = 0;
  offset = 0;

  constructor(
    private readonly file: SegmentFile,
    private readonly size: number,
  ) {}

  get remaining(): number {
    return this.size - this.offset;
  }

  /** The next `length` bytes if they are already buffered (undefined if a read is needed, null past the end). */
  readNow(length: number): Buffer | null | undefined {
    if (length > this.remaining) return null;
    const end = this.offset + length;
    if (end > this.bufferStart + this.buffer.length) return undefined;
    const out = this.buffer.subarray(this.offset - this.bufferStart, end - this.bufferStart);
    this.offset = end;
    return out;
  }

  async read(length: number): Promise<Buffer | null> {
    const now = this.readNow(length);
    if (now !== undefined) return now;
    // Not zero-filled: the read overwrites it, and a short read is caught below.
    const fresh = Buffer.allocUnsafe(Math.min(Math.max(length, 1 << 20), this.size - this.offset));
    const { bytesRead } = await this.file.read(fresh, 0, fresh.length, this.offset);
    if (bytesRead < length) return null;
    this.buffer = fresh.subarray(0, bytesRead);
    this.bufferStart = this.offset;
    return this.readNow(length)!;
  }
}

export interface SegmentEntry {
  record: RedoRecord;
  /** Where the record starts in the file, and its length with its frame: what readSegmentSpans takes. */
  at: number;
  length: number;
}

/**
 * Errors are built by module-level functions, not closures in the loop: under tsx (esbuild's
 * keepNames) every closure made per record also costs a defineProperty of its name.
 */
function damagedBody(name: string, at: number, index: number | null, reason: string): SegmentCorruptError {
  return new SegmentCorruptError(name, at, index === null ? reason : `record ${index}: ${reason}`);
}

/**
 * The record whose body (`u32 meta length, meta JSON, message bytes`) is `buffer[bodyAt, bodyEnd)`,
 * its checksum already verified, read in place: a view per field would cost a replay of 20,000
 * records more than its checksums. The message bytes are copied out only `withBlobs`. `at` and
 * `index` (the record's number in a whole read, null for a span) name it in errors.
 */
function decodeBody(name: string, at: number, index: number | null, buffer: Buffer, bodyAt: number, bodyEnd: number, withBlobs: boolean | undefined): RedoRecord {
  const metaLength = buffer.readUInt32BE(bodyAt);
  if (metaLength > bodyEnd - bodyAt - 4) throw damagedBody(name, at, index, "implausible metadata length");
  const metaEnd = bodyAt + 4 + metaLength;
  let record: RedoRecord;
  try {
    record = JSON.parse(buffer.toString("utf8", bodyAt + 4, metaEnd)) as RedoRecord;
  } catch {
    throw damagedBody(name, at, index, "metadata is not valid JSON");
  }
  if (bodyEnd > metaEnd && withBlobs) record.blob = Buffer.from(buffer.subarray(metaEnd, bodyEnd));
  return record;
}

/**
 * Reads a segment, verifying as it goes, and yields its header then its records. Throws
 * SegmentCorruptError at the first damage, with the byte offset where the damaged part starts.
 */
export async function* readSegment(name: string, file: SegmentFile, options: { withBlobs?: boolean } = {}): AsyncGenerator<{ header: SegmentHeader } | SegmentEntry> {
  for await (const read of readSegmentBatches(name, file, options)) {
    if ("header" in read) yield read;
    else yield* read.entries;
  }
}

/**
 * The same, with the records in arrays: those a buffered read holds are parsed at once, so a
 * reader of many records pays one wait per megabyte rather than several per record.
 */
export async function* readSegmentBatches(
  name: string,
  file: SegmentFile,
  options: { withBlobs?: boolean } = {},
): AsyncGenerator<{ header: SegmentHeader } | { entries: SegmentEntry[] }> {
  const size = (await file.stat()).size;
  const cursor = new FileCursor(file, size);
  const hash = createHash("sha256");
  const truncated = (at: number, length: number, what: string) => new SegmentCorruptError(name, at, `truncated: ${what} needs ${length} bytes, ${size - at} left`);
  const take = async (length: number, what: string): Promise<Buffer> => {
    const at = cursor.offset;
    const chunk = await cursor.read(length);
    if (!chunk) throw truncated(at, length, what);
    hash.update(chunk);
    return chunk;
  };

  const magic = await take(8, "magic");
  if (!magic.equals(SEGMENT_MAGIC)) throw new SegmentCorruptError(name, 0, "not a Mailvault redo segment (bad magic)");
  const headerLength = (await take(4, "header length")).readUInt32BE();
  if (headerLength > 16 << 20) throw new SegmentCorruptError(name, 8, `implausible header length ${headerLength}`);
  const headerJson = await take(headerLength, "header");
  const headerCrc = (await take(4, "header checksum")).readUInt32BE();
  if (crc32(headerJson) !== headerCrc) throw new SegmentCorruptError(name, 12, "header checksum mismatch");
  let header: SegmentHeader;
  try {
    header = JSON.parse(headerJson.toString("utf8")) as SegmentHeader;
  } catch {
    throw new SegmentCorruptError(name, 12, "header is not valid JSON");
  }
  if (header.format !== SEGMENT_FORMAT) throw new SegmentCorruptError(name, 12, `unknown segment format ${header.format}`);
  yield { header };

  let entries: SegmentEntry[] = [];
  for (let i = 0; i < header.recordCount; i++) {
    const at = cursor.offset;
    let prefix = cursor.readNow(8);
    if (prefix === undefined) {
      // The buffer is spent: hand on what it held before reading on.
      if (entries.length) yield { entries };
      entries = [];
      prefix = await cursor.read(8);
    }
    if (!prefix) throw truncated(at, 8, `record ${i + 1} of ${header.recordCount}`);
    hash.update(prefix);
    const length = prefix.readUInt32BE(0);
    const crc = prefix.readUInt32BE(4);
    if (length < 4 || length > cursor.remaining) throw new SegmentCorruptError(name, at, `record ${i + 1}: implausible length ${length}`);
    const body = cursor.readNow(length) ?? (await cursor.read(length));
    if (!body) throw truncated(at + 8, length, `record ${i + 1} of ${header.recordCount}`);
    hash.update(body);
    if (crc32(body) !== crc) throw new SegmentCorruptError(name, at, `record ${i + 1}: checksum mismatch`);
    entries.push({ record: decodeBody(name, at, i + 1, body, 0, body.length, options.withBlobs), at, length: 8 + length });
  }
  if (entries.length) yield { entries };

  const digest = hash.digest();
  const trailerAt = cursor.offset;
  const trailer = await cursor.read(8 + 4 + 32);
  if (!trailer) throw new SegmentCorruptError(name, trailerAt, "truncated: the trailer is missing");
  if (!trailer.subarray(0, 8).equals(TRAILER_MAGIC)) throw new SegmentCorruptError(name, trailerAt, "bad trailer magic");
  if (trailer.readUInt32BE(8) !== header.recordCount) throw new SegmentCorruptError(name, trailerAt + 8, "trailer record count differs from the header");
  if (!trailer.subarray(12).equals(digest)) throw new SegmentCorruptError(name, trailerAt + 12, "segment digest mismatch");
  if (cursor.remaining !== 0) throw new SegmentCorruptError(name, cursor.offset, `${cursor.remaining} unexpected bytes after the trailer`);
}

const NAME = /^redo-(\d{8}\.\d{6}\.\d{3})-seq(\d+)-(\d+)\.log$/;

export function segmentName(firstAt: Date, firstSeq: number, lastSeq: number): string {
  const iso = firstAt.toISOString(); // 2026-11-22T08:10:11.123Z
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}.${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}.${iso.slice(20, 23)}`;
  return `redo-${stamp}-seq${firstSeq}-${lastSeq}.log`;
}

export function parseSegmentName(name: string): { firstSeq: number; lastSeq: number } | null {
  const match = NAME.exec(name);
  return match ? { firstSeq: Number(match[2]), lastSeq: Number(match[3]) } : null;
}

/** Spans closer than this are read together; a read covers at most READ_SPAN_LIMIT bytes. */
const SPAN_GAP = 64 << 10;
const READ_SPAN_LIMIT = 4 << 20;

/**
 * Reads chosen records of a segment, by where a whole read found them (`at`, `length` as
 * readSegment yields them, in file order): a restore that needs a few records of a large segment
 * reads those and not the rest. Each record's checksum is verified as in a whole read; the
 * segment's digest is not (a whole read checked it when the places were learned).
 */
export async function* readSegmentSpans(
  name: string,
  file: SegmentFile,
  spans: readonly { at: number; length: number }[],
  options: { withBlobs?: boolean } = {},
): AsyncGenerator<RedoRecord[]> {
  for (let i = 0; i < spans.length; ) {
    // Neighbouring records in one read.
    let j = i + 1;
    while (j < spans.length && spans[j]!.at - (spans[j - 1]!.at + spans[j - 1]!.length) <= SPAN_GAP && spans[j]!.at + spans[j]!.length - spans[i]!.at <= READ_SPAN_LIMIT) j++;
    const start = spans[i]!.at;
    // Not zero-filled: the read overwrites it, and a short read is caught below.
    const buffer = Buffer.allocUnsafe(spans[j - 1]!.at + spans[j - 1]!.length - start);
    const { bytesRead } = await file.read(buffer, 0, buffer.length, start);
    if (bytesRead < buffer.length) throw new SegmentCorruptError(name, start + bytesRead, "truncated: a record learned earlier is no longer there");
    const records: RedoRecord[] = [];
    for (let k = i; k < j; k++) {
      const { at, length } = spans[k]!;
      // A frame (8 bytes) and a body's metadata length (4) at least: anything shorter was not learned from a whole read.
      if (length < 12) throw new SegmentCorruptError(name, at, `implausible record length ${length}`);
      const from = at - start;
      const bodyAt = from + 8;
      const bodyEnd = from + length;
      if (buffer.readUInt32BE(from) !== length - 8 || crc32(buffer.subarray(bodyAt, bodyEnd)) !== buffer.readUInt32BE(from + 4)) throw new SegmentCorruptError(name, at, "record checksum mismatch");
      records.push(decodeBody(name, at, null, buffer, bodyAt, bodyEnd, options.withBlobs));
    }
    yield records;
    i = j;
  }
}
